"""The MacridVAE recommender (Ma et al., "Learning Disentangled Representations for Recommendation",
NeurIPS 2019): K macro concepts (user intentions) with independent micro dimensions inside each.

loaders, synthetic  interactions from MovieLens / RecBole / CSV files, or the embedded generator
split, dataset      the strong-generalization split and the InteractionData it gives
data                the data stage's config and where raw interactions come from
macridvae           the model;  multvae, baselines: Mult-VAE, EASE, most popular
train, metrics      the shared trainer (early stopping on NDCG@100) and the ranking metrics
checkpoints         save / load of the trained models
evaluate            the baselines and disentanglement of evaluate_recsys;  disentanglement, plots
config              the typed configs (stages after data, models, training);  fetch: ml-100k from the recbole wheel
serve               the served Recommender (exact MacridVAE score from one FAISS index)
routes, commands    its HTTP routes and `mdr` sub-commands
"""
