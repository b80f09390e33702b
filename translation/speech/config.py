"""The typed configs of the text–speech stages (params.yaml blocks of the same names)."""
from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.config import TorchStage, rule
from translation.speech.acoustic import AcousticConfig
from translation.speech.channel import DecodeConfig
from translation.speech.seq2seq import Seq2SeqConfig
from translation.speech.data import PrepareTextSpeech
from translation.speech.train import AcousticTrainConfig, ChannelTrainConfig

__all__ = ["PrepareTextSpeech", "TrainTextSpeech", "EvaluateTextSpeech", "IndexTextSpeech"]


@dataclass(frozen=True)
class TrainTextSpeech(TorchStage):
    threads: int = field(default=1, metadata=rule(ge=1))   # of each training job; Dask runs the jobs side by side
    paired_size: int = field(default=400, metadata=rule(ge=1))   # the served model's paired words
    curve: bool = True          # also train both models at every other prepared paired size
    model: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)   # the semi-supervised model's; the baseline's: beam only
    channel: ChannelTrainConfig = field(default_factory=ChannelTrainConfig)
    acoustic: AcousticConfig = field(default_factory=AcousticConfig)
    acoustic_train: AcousticTrainConfig = field(default_factory=AcousticTrainConfig)


@dataclass(frozen=True)
class EvaluateTextSpeech(TorchStage):
    pass


@dataclass(frozen=True)
class IndexTextSpeech:
    factory: str = "Flat"
    k: int = field(default=10, metadata=rule(ge=1))
