"""FAISS inner-product index of FAQ phrasings, kept in step with the FAQ store."""
