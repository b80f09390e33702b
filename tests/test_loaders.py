import pytest

from recsys.loaders import DataFormatError, load_csv, load_interactions, load_ml100k, load_recbole


def test_csv_happy_path_and_aliases(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("userId,movieId,rating,timestamp\n1,10,4.5,100\n2,11,3,101\n")
    t = load_csv(p).table
    assert list(t.user) == ["1", "2"] and list(t.item) == ["10", "11"] and t.rating.tolist() == [4.5, 3.0]


def test_csv_without_rating_is_implicit(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user,item\na,x\nb,y\n")
    assert load_csv(p).table.rating.tolist() == [5.0, 5.0]


@pytest.mark.parametrize("text, where, words", [
    ("user,item,rating\n1,2,5\n1,3\n", ":3", "expected 3 fields"),
    ("user,item,rating\n1,2,5\n\n1,3,five\n", ":4", "'rating' is not a number"),
    ("user,rating\n1,5\n", ":1", "missing column(s) ['item']"),
    ("", "", "empty file"),
    ("user,item\n", "", "no data rows"),
])
def test_csv_errors_name_file_and_line(tmp_path, text, where, words):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataFormatError) as e:
        load_csv(p)
    assert f"{p}{where}" in str(e.value) and words in str(e.value)


def test_ml100k_with_genres(tmp_path):
    (tmp_path / "u.data").write_text("1\t5\t4\t881250949\n2\t6\t2\t881250950\n")
    flags = ["0"] * 19
    flags[5] = "1"  # Comedy
    (tmp_path / "u.item").write_text("5|Film|01-Jan-1995||http://x|" + "|".join(flags) + "\n")
    data = load_interactions("movielens", str(tmp_path))
    assert len(data.table) == 2 and data.item_category == {"5": "Comedy"}


def test_ml100k_malformed_row(tmp_path):
    (tmp_path / "u.data").write_text("1\t5\t4\t881250949\n2\t6\t2\n")
    with pytest.raises(DataFormatError, match=r"u.data:2: expected 4 fields"):
        load_ml100k(tmp_path)


def test_recbole_atomic_files(tmp_path):
    (tmp_path / "d.inter").write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t7\t5\t1\n")
    (tmp_path / "d.item").write_text("item_id:token\tmovie_title:token_seq\tclass:token_seq\n7\tX\tDrama Crime\n")
    data = load_recbole(tmp_path / "d")
    assert data.table.item.tolist() == ["7"] and data.item_category == {"7": "Drama"}
    (tmp_path / "e.inter").write_text("uid:token\titem_id:token\n1\t7\n")
    with pytest.raises(DataFormatError, match=r"e.inter:1: missing column"):
        load_recbole(tmp_path / "e")


def test_missing_folder_contents(tmp_path):
    with pytest.raises(DataFormatError, match="no u.data, ratings.dat or ratings.csv"):
        load_interactions("movielens", str(tmp_path))
