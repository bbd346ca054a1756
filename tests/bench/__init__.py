"""`make bench`: the product measured beside two baselines under wrk and hey (see run.py)."""
