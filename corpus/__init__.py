"""diptych's text side: documents, normalisation, segmentation, boilerplate, corpora."""

from .documents import Document, read_document, read_text
from .errors import CorpusError
from .manifest import Corpus, bundled_corpus_dir, load_corpus
from .normalize import Folded, fold
from .segment import Sentence, segment, segment_document

__version__ = "0.1.0"

__all__ = [
    "Corpus", "CorpusError", "Document", "Folded", "Sentence", "__version__", "bundled_corpus_dir",
    "fold", "load_corpus", "read_document", "read_text", "segment", "segment_document",
]
