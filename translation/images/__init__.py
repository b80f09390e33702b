"""DRIT / DRIT++ image translation (Lee et al., ECCV 2018; IJCV 2020): a content code shared by two
domains and an attribute code per domain.

data        ImageSet / ImageData containers, image file I/O (decode, encode PNG, folders)
sources     where the two domains come from: MNIST → MNIST-M-lite, Glyphs, two folders; the data stage's config
model       the DRIT network: encoders, generators, discriminators, named losses
train       the training loop (checkpoint + resume);  checkpoints: save / load
classifier  the project's classifier: the judge of content preservation and the DA classifier
evaluate    content preservation, diversity, Fréchet distance, domain adaptation, probes
plots       image grids
config      the typed configs (stages after data, model, training, judge)
serve       the served Translator (translate, attribute transfer, content search) and its indexes
routes      its HTTP routes;  commands: its `mdr` sub-commands
"""
