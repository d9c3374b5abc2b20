"""Turn recordings into a labelled dataset: slice files, label the archive, check the result.

Runtime-only (numpy, soundfile, soxr): preparing clips on the Pi needs no training extra.
"""
