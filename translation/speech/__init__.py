"""Noisy-channel text–speech (Mariooryad et al., arXiv 2212.03232): G2P and P2G from a few paired
words plus unpaired spellings and phoneme strings (wake-sleep), and an acoustic encoder whose content
code is shared with phoneme strings and kept apart from a voice code.

lexicon      CMUdict, letters and ARPAbet symbols, vocabularies
audio        wav I/O, log-mel features;  engines: espeak-ng, festival and flite voices
data         word splits, clip sets, the prepared data set, the data stage's config
seq2seq      the attention encoder-decoder and symbol language models
channel      the noisy channel: priors, G2P and P2G, supervised + wake + sleep losses
acoustic     the acoustic encoder (CTC, InfoNCE to phoneme codes, mel reconstruction)
train        the training loops;  jobs: one model per Dask job;  checkpoints: save / load
metrics      PER / WER / LER, retrieval recall;  evaluate: the stage's whole evaluation and plots
config       the typed configs (stages after data, models, decoding, augmentation, training)
serve        the served SpeechText (g2p, p2g, retrieval both ways) and its indexes
routes       its HTTP routes;  commands: its `mdr` sub-commands
"""
