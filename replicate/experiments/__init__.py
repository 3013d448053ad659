"""One module per experiment: NAME, CLAIMS, SCALES, THRESHOLDS, CRITERION_TEXT, analyse()."""
