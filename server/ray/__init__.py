"""Scale-out on a Ray cluster (`bioclass serve --ray ADDRESS`): model replicas and AutoML trials.

Only imported when the server is given a Ray address; a single machine never imports Ray.
"""
