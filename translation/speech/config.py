"""The typed configs of the text–speech stages after data preparation (params.yaml blocks of the
same names) and of the models, decoding, augmentation and training they run: plain dataclasses, no
model code, so reading a stage's params imports no model. The data stage's config lives with the data
code (translation.speech.data)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from pipeline.config import ConfigError, TorchStage, rule


@dataclass(frozen=True)
class Seq2SeqConfig:
    embed: int = field(default=64, metadata=rule(ge=4))
    hidden: int = field(default=128, metadata=rule(ge=8))
    dropout: float = field(default=0.1, metadata=rule(ge=0, lt=1))
    max_len: int = field(default=20, metadata=rule(ge=2))   # decoding stops here (symbols incl. <eos>)


@dataclass(frozen=True)
class DecodeConfig:
    """How the channel decodes (not what it is): saved beside the weights, set per model."""
    beam: int = field(default=8, metadata=rule(ge=1))              # n-best size; 1 = greedy
    rerank: float = field(default=1.0, metadata=rule(ge=0))        # weight of the other story's channel ...
    rerank_prior: float = field(default=1.5, metadata=rule(ge=0))  # ... and of its prior in the re-ranking

    def beam_only(self) -> DecodeConfig:
        """A supervised-only model's: its priors never saw data, so nothing re-ranks."""
        return replace(self, rerank=0.0, rerank_prior=0.0)


@dataclass(frozen=True)
class ChannelLossWeights:
    supervised: float = field(default=1.0, metadata=rule(ge=0))
    wake: float = field(default=0.5, metadata=rule(ge=0))
    sleep: float = field(default=0.5, metadata=rule(ge=0))
    temperature: float = field(default=0.5, metadata=rule(gt=0))   # of q's wake samples and the dreams
    wake_samples: int = field(default=1, metadata=rule(ge=1))       # K samples of q per unpaired item (>1: importance-weighted)


@dataclass(frozen=True)
class ChannelTrainConfig:
    steps: int = field(default=128, metadata=rule(ge=1))
    batch_size: int = field(default=64, metadata=rule(ge=1))        # paired words per step
    unpaired_batch: int = field(default=128, metadata=rule(ge=1))   # unpaired spellings and phoneme strings
    dream_batch: int = field(default=32, metadata=rule(ge=1))       # pairs dreamed per story for the sleep phase
    length_chunks: int = field(default=2, metadata=rule(ge=1))      # unpaired loss passes in groups of similar length
    lr: float = field(default=0.003, metadata=rule(gt=0))
    warmup: int = field(default=48, metadata=rule(ge=0))           # supervised + LM steps before wake/sleep
    decay_from: float = field(default=0.5, metadata=rule(ge=0, le=1))  # lr falls linearly to 0 from this fraction
    eval_every: int = field(default=50, metadata=rule(ge=1))
    dev_words: int = field(default=200, metadata=rule(ge=1))        # dev words for model selection
    weights: ChannelLossWeights = field(default_factory=ChannelLossWeights)


@dataclass(frozen=True)
class AcousticConfig:
    n_mels: int = field(default=40, metadata=rule(ge=8))
    hidden: int = field(default=96, metadata=rule(ge=8))
    code: int = field(default=64, metadata=rule(ge=4))      # content code (shared with phoneme strings)
    voice: int = field(default=16, metadata=rule(ge=2))      # voice code
    temperature: float = field(default=0.1, metadata=rule(gt=0))   # InfoNCE
    corrupt: float = field(default=0.15, metadata=rule(ge=0, lt=1))  # edit rate of the corrupted copies
    w_ctc: float = field(default=1.0, metadata=rule(ge=0))
    w_match: float = field(default=1.0, metadata=rule(ge=0))
    w_recon: float = field(default=1.0, metadata=rule(ge=0))
    cepstra: int = field(default=0, metadata=rule(ge=0))   # content path's lifter: cepstra kept (0: off)


@dataclass(frozen=True)
class AugmentConfig:
    speed: float = field(default=0.0, metadata=rule(ge=0, lt=0.5))        # factor drawn in 1 ± speed
    gain_db: float = field(default=0.0, metadata=rule(ge=0))              # gain drawn in ± gain_db
    noise: float = field(default=0.0, metadata=rule(ge=0, le=1))          # share of clips that get white noise ...
    snr_db: list[float] = field(default_factory=lambda: [5.0, 30.0])      # ... at an SNR drawn in this range
    pitch: float = field(default=0.0, metadata=rule(ge=0, le=6))          # shift drawn in ± pitch semitones
    reverb: float = field(default=0.0, metadata=rule(ge=0, le=1))         # share of clips reverberated ...
    rt60: list[float] = field(default_factory=lambda: [0.2, 0.7])         # ... in a room of this RT60 (s)
    drr_db: list[float] = field(default_factory=lambda: [0.0, 10.0])      # ... heard at this direct-to-reverberant ratio
    time_masks: int = field(default=0, metadata=rule(ge=0))               # SpecAugment: masks of up to
    time_width: int = field(default=10, metadata=rule(ge=1))              # time_width frames ...
    freq_masks: int = field(default=0, metadata=rule(ge=0))               # ... and of up to freq_width
    freq_width: int = field(default=6, metadata=rule(ge=1))               # mel bands

    def check(self):
        if len(self.snr_db) != 2 or self.snr_db[0] > self.snr_db[1]:
            raise ConfigError(f"snr_db: must be [low, high], got {self.snr_db}")
        if len(self.rt60) != 2 or not 0 < self.rt60[0] <= self.rt60[1] <= 3:
            raise ConfigError(f"rt60: must be [low, high] seconds within (0, 3], got {self.rt60}")
        if len(self.drr_db) != 2 or self.drr_db[0] > self.drr_db[1]:
            raise ConfigError(f"drr_db: must be [low, high], got {self.drr_db}")

    @property
    def on_waveform(self) -> bool:
        return bool(self.speed or self.pitch or self.gain_db or self.reverb or self.noise)

    @property
    def active(self) -> bool:
        return self.on_waveform or bool(self.time_masks or self.freq_masks)


@dataclass(frozen=True)
class AcousticTrainConfig:
    steps: int = field(default=128, metadata=rule(ge=1))
    batch_size: int = field(default=64, metadata=rule(ge=2))
    lr: float = field(default=0.004, metadata=rule(gt=0))
    log_every: int = field(default=50, metadata=rule(ge=1))
    augment: AugmentConfig = field(default_factory=AugmentConfig)   # all off by default


@dataclass(frozen=True)
class TrainTextSpeech(TorchStage):
    threads: int = field(default=1, metadata=rule(ge=1))   # of each training job; Dask runs the jobs side by side
    paired_size: int = field(default=400, metadata=rule(ge=1))   # the served model's paired words
    curve: bool = False         # also train both models at every other prepared paired size (the learning curve)
    model: Seq2SeqConfig = field(default_factory=Seq2SeqConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)   # the semi-supervised model's; the baseline's: beam only
    channel: ChannelTrainConfig = field(default_factory=ChannelTrainConfig)
    acoustic: AcousticConfig = field(default_factory=AcousticConfig)
    acoustic_train: AcousticTrainConfig = field(default_factory=AcousticTrainConfig)


@dataclass(frozen=True)
class EvaluateTextSpeech(TorchStage):
    pass


# The listening conditions a search is tested under (translation.speech.augment.degrade): a clean clip,
# a telephone line (8 kHz, 300–3,400 Hz), white noise at 20 and 10 dB SNR, and a reverberant room.
CONDITIONS = ("clean", "phone", "noise20", "noise10", "reverb")


@dataclass(frozen=True)
class FitConfusion:
    rounds: int = field(default=3, metadata=rule(ge=1))          # hard-EM rounds (align, count)
    smoothing: float = field(default=0.5, metadata=rule(gt=0))   # added to every count
    conditions: list[str] = field(default_factory=lambda: list(CONDITIONS))   # the training clips are heard under these ...
    in_turn: bool = True    # ... one a clip, in turn (one decode a clip); false: every clip under each (dev +0.012 R@10, 5x the time)

    def check(self):
        bad = [c for c in self.conditions if c not in CONDITIONS]
        if bad or not self.conditions:
            raise ConfigError(f"conditions: each one of {', '.join(CONDITIONS)}, got {self.conditions}")


@dataclass(frozen=True)
class FrontEndConfig:
    """Speech → spelling search through PocketSphinx's evidence (translation.speech.hearing): the
    weights of the three scores, chosen on dev voices by bench.speech_retrieval."""
    channel: float = field(default=0.25, metadata=rule(ge=0))     # log p(heard | pronunciation), confusion channel
    recognizer: float = field(default=4.0, metadata=rule(ge=0))   # the word's log-rank in PocketSphinx's n-best
    code: float = field(default=5.0, metadata=rule(ge=0))         # cosine of the learned content codes
    candidates: int = field(default=300, metadata=rule(ge=1))     # FAISS proposals per query and source
    nbest: int = field(default=10, metadata=rule(ge=1))           # the recognizer's n-best words
    g2p_variants: int = field(default=3, metadata=rule(ge=1))     # G2P pronunciations of a word without a dictionary's

    def weights(self):
        return [self.channel, self.recognizer, self.code]


@dataclass(frozen=True)
class IndexTextSpeech:
    factory: str = "Flat"
    k: int = field(default=10, metadata=rule(ge=1))
    words: str = ""   # the searchable spellings: a text file, one spelling a line ("" = the catalogue's words)
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)
