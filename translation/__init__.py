"""Translation models, one subpackage each: `images` (DRIT, image domain A ↔ domain B) and `speech`
(the noisy channel, spelling ↔ phonemes ↔ speech). The two share nothing but `pipeline`."""
