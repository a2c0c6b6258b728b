"""AutoML as a service: Optuna searches over training jobs, then the best model in fp32 and int8.

Server side (never imports torch): service.py (what each RPC does, driving a run), request.py (the
validated request), search.py (the Optuna study, search space from space.py, leaderboard),
budget.py (time per trial). Helper process: finalize.py and quantize.py (int8 variants, timed).
Trials are training jobs (server/training/), run locally or on Ray (server/ray/trials.py).
"""
