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
    ("user,item,rating\n1,2,5,9\n", ":2", "expected 3 fields"),   # not read as an index column
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
    flags[14] = "1"  # Romance
    (tmp_path / "u.item").write_text("5|Film (1995)|01-Jan-1995||http://x|" + "|".join(flags) + "\n")
    data = load_interactions("movielens", str(tmp_path))
    assert len(data.table) == 2 and data.item_category == {"5": "Comedy"}
    assert data.item_titles == {"5": "Film (1995)"} and data.item_categories == {"5": ["Comedy", "Romance"]}


def test_movielens_dat_and_csv_item_files(tmp_path):
    dat, csv_dir = tmp_path / "dat", tmp_path / "csv"
    dat.mkdir(), csv_dir.mkdir()
    (dat / "ratings.dat").write_text("1::10::4::100\n")
    (dat / "movies.dat").write_text("10::Heat (1995)::Action|Crime|Thriller\n")
    data = load_interactions("movielens", str(dat))
    assert data.item_titles == {"10": "Heat (1995)"} and data.item_categories == {"10": ["Action", "Crime", "Thriller"]}
    (csv_dir / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,11,4,100\n")
    (csv_dir / "movies.csv").write_text('movieId,title,genres\n11,"American President, The (1995)",Comedy|Drama|Romance\n')
    data = load_interactions("movielens", str(csv_dir))
    assert data.item_titles == {"11": "American President, The (1995)"} and data.item_category == {"11": "Comedy"}


def test_ml100k_malformed_row(tmp_path):
    (tmp_path / "u.data").write_text("1\t5\t4\t881250949\n2\t6\t2\n")
    with pytest.raises(DataFormatError, match=r"u.data:2: expected 4 fields"):
        load_ml100k(tmp_path)


def test_recbole_atomic_files(tmp_path):
    (tmp_path / "d.inter").write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t7\t5\t1\n")
    (tmp_path / "d.item").write_text("item_id:token\tmovie_title:token_seq\tclass:token_seq\n7\tX\tDrama Crime\n")
    data = load_recbole(tmp_path / "d")
    assert data.table.item.tolist() == ["7"] and data.item_category == {"7": "Drama"}
    assert data.item_titles == {"7": "X"} and data.item_categories == {"7": ["Drama", "Crime"]}
    (tmp_path / "e.inter").write_text("uid:token\titem_id:token\n1\t7\n")
    with pytest.raises(DataFormatError, match=r"e.inter:1: missing column"):
        load_recbole(tmp_path / "e")


def test_missing_folder_contents(tmp_path):
    with pytest.raises(DataFormatError, match="no u.data, ratings.dat or ratings.csv"):
        load_interactions("movielens", str(tmp_path))


def test_csv_reads_an_items_file_beside_it(tmp_path):
    (tmp_path / "r.csv").write_text("user,item\na,x\nb,y\n")
    assert load_csv(tmp_path / "r.csv").item_titles == {}   # no item file: ids only
    (tmp_path / "items.csv").write_text('item,title,categories\nx,"Soup, hot",Food|Winter\ny,Ice,\n')
    data = load_csv(tmp_path / "r.csv")
    assert data.item_titles == {"x": "Soup, hot", "y": "Ice"}
    assert data.item_categories == {"x": ["Food", "Winter"], "y": []} and data.item_category == {"x": "Food"}


@pytest.mark.parametrize("text, where, words", [
    ("item,colour\nx,red\n", ":1", "an item file needs an id column"),
    ("title,genres\nA,B\n", ":1", "an item file needs an id column"),
    ("item,title\nx,A\ny,B\nx,C\n", ":4", "item 'x' is listed twice"),
    ("item,title\nx,A,extra\n", ":2", "expected 2 fields"),
])
def test_items_file_errors_name_file_and_line(tmp_path, text, where, words):
    (tmp_path / "r.csv").write_text("user,item\na,x\n")
    (tmp_path / "items.csv").write_text(text)
    with pytest.raises(DataFormatError) as e:
        load_csv(tmp_path / "r.csv")
    assert f"{tmp_path / 'items.csv'}{where}" in str(e.value) and words in str(e.value)
