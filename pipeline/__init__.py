"""Orchestration and the command line: the stages of a build and the engine that runs them.

``corpus`` reads text and writes datasets, ``align`` aligns and links sentences,
``framing`` finds differences and conflicts; this package runs them one after
the other for every story of a corpus (:mod:`pipeline.build`) and gives them
one command, ``diptych`` (:mod:`pipeline.cli`).
"""
