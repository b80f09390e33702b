"""Every file and folder the recommender's stages, the CLI and the service read or write; dvc.yaml
names the same paths (tests/test_layout.py holds the two together)."""
from pathlib import Path

DATA = Path("data/recsys")
MODEL = Path("models/recsys/macridvae.pt")
PARTIAL = Path("models/recsys/macridvae.partial.pt")   # a running train_recsys's checkpoint
INDEX = Path("indexes/recsys")

DATA_METRICS = Path("metrics/recsys_data.json")
METRICS = Path("metrics/recsys.json")
INDEX_METRICS = Path("metrics/recsys_index.json")

TRAIN_HISTORY = Path("plots/recsys_train.csv")
LEARNING_CURVE = Path("plots/recsys_learning_curve.png")
CONCEPTS_PLOT = Path("plots/recsys_concepts.png")
TRAVERSAL_PLOT = Path("plots/recsys_traversal.png")
DCI_PLOT = Path("plots/recsys_dci.png")
