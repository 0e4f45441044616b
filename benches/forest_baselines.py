#!/usr/bin/env python3
"""PR-AUC of isolation forests beside the label-free score, on the features
`sentinel` computes (issue #3's baseline, measured with other implementations).

    cargo run --release --example features_dump -- MODEL_DIR test.csv > rows.csv
    pip install pandas scikit-learn isotree
    python3 benches/forest_baselines.py rows.csv

The forests see the model's base features (not the likely-cargo outputs),
missing values filled with the column median, as `sentinel evaluate`'s own
baseline does; 200 trees of 256 rows each, fitted on the evaluated rows.
"""
import sys

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score

LIKELY = {"f_likely_controlled", "f_likely_declared", "f_mismatch"}

rows = pd.read_csv(sys.argv[1])
features = [c for c in rows.columns if c.startswith("f_") and c not in LIKELY]
x = rows[features].replace([np.inf, -np.inf], np.nan)
x = x.fillna(x.median())
y = (rows["label"] > 0.5).astype(int).values

print(f"{len(rows)} rows, {y.sum()} positives, {len(features)} features")
print(f"label-free score: PR-AUC {average_precision_score(y, rows['label_free']):.3f}")
for seed in (1, 2, 3):
    forest = IsolationForest(n_estimators=200, max_samples=256, random_state=seed).fit(x)
    print(f"scikit-learn IsolationForest, seed {seed}: PR-AUC "
          f"{average_precision_score(y, -forest.score_samples(x)):.3f}")
try:
    from isotree import IsolationForest as IsoTree
except ImportError:
    print("isotree not installed: extended forests skipped")
else:
    for ndim in (1, 2, 3):
        forest = IsoTree(ndim=ndim, ntrees=200, sample_size=256, random_seed=1, nthreads=2).fit(x)
        print(f"isotree, ndim {ndim}: PR-AUC {average_precision_score(y, forest.predict(x)):.3f}")
