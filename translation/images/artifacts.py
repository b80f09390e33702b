"""Every file and folder the image-translation stages, the CLI and the service read or write;
dvc.yaml names the same paths (tests/test_layout.py holds the two together)."""
from pathlib import Path

DATA = Path("data/images")
MODEL = Path("models/translation/drit.pt")
PARTIAL = Path("models/translation/drit.partial.pt")  # a running train_translation's checkpoint
INDEX = Path("indexes/translation")

DATA_METRICS = Path("metrics/images_data.json")
METRICS = Path("metrics/translation.json")
INDEX_METRICS = Path("metrics/translation_index.json")

SAMPLES_PLOT = Path("plots/images_samples.png")
TRAIN_HISTORY = Path("plots/translation_train.csv")
GRID_PLOT = Path("plots/translation_grid.png")
DCI_PLOT = Path("plots/translation_dci.png")
SEARCH_PLOT = Path("plots/translation_search.png")    # queries and their top-8 hits in the other domain
