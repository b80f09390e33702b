"""torchaudio 2.11 is installed beside torch 2.14 without its deps: the transforms mdr uses must run."""
import math

import torch
import torchaudio


def test_melspectrogram_and_mfcc_run():
    sr = 16000
    t = torch.arange(sr) / sr
    wave = torch.sin(2 * math.pi * 440 * t).unsqueeze(0)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate=sr, n_fft=400, hop_length=160, n_mels=40)(wave)
    assert mel.shape == (1, 40, 101) and torch.isfinite(mel).all()
    # a 440 Hz tone puts its energy in the low mel bands
    assert mel[0, :10].mean() > mel[0, 30:].mean()
    mfcc = torchaudio.transforms.MFCC(sample_rate=sr, n_mfcc=13, melkwargs={"n_mels": 40})(wave)
    assert mfcc.shape[1] == 13 and torch.isfinite(mfcc).all()
