"""Scale-out on a Ray cluster: model replicas (`bioclass serve --ray ADDRESS`) and AutoML trials as
Ray Tune trials (on a server started with --ray, or for a run that names a cluster:
`bioclass automl ... --ray ADDRESS`).

Only imported when the server or an AutoML run is given a Ray address; a single machine never
imports Ray.
"""
