"""Small-scale reproduction of "Deep Ignorance": corpora, tiny LM pretraining, knowledge evals and attacks."""
