"""Every file and folder the text–speech stages, the CLI and the service read or write; dvc.yaml
names the same paths (tests/test_layout.py holds the two together)."""
from pathlib import Path

DATA = Path("data/text_speech")
MODELS = Path("models/text_speech")
CHANNEL = MODELS / "channel.pt"            # the served noisy channel (semi-supervised at paired_size)
ACOUSTIC = MODELS / "acoustic.pt"
INDEX = Path("indexes/text_speech")
HEARING = Path("models/text_speech_hearing")
CONFUSION = HEARING / "confusion.npz"     # p(heard | phonemes) of PocketSphinx's phone loop (stage fit_confusion)

DATA_METRICS = Path("metrics/text_speech_data.json")
METRICS = Path("metrics/text_speech.json")
INDEX_METRICS = Path("metrics/text_speech_index.json")
CONFUSION_METRICS = Path("metrics/text_speech_confusion.json")

TRAIN_HISTORY = Path("plots/text_speech_train.json")
CURVE_PLOT = Path("plots/text_speech_curve.png")
DCI_PLOT = Path("plots/text_speech_dci.png")


def channel_file(kind: str, size: int) -> Path:
    """The channel trained `kind` ("semi" or "supervised") on `size` paired words."""
    return MODELS / f"channel_{kind}_{size}.pt"


def partial_file(job: str) -> Path:
    """A running training job's checkpoint."""
    return MODELS / f"{job}.partial.pt"
