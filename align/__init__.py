"""diptych's alignment side: sentences in, alignment out (encoders, translators, similarity, search, scoring)."""
