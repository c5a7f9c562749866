"""Machine-translation evaluation on an aligned dataset, through sacrebleu."""
