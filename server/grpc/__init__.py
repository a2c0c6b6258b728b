"""The gRPC skin: one thin servicer module per service, with its converters.

classifier_servicer.py (+ convert.py) for bioclass.v1.Classifier, oip_servicer.py for the Open
Inference Protocol, training_servicer.py and automl_servicer.py for Training and AutoML; app.py
assembles them on one port with health checking and reflection, security.py checks access and
errors.py maps BioclassError to statuses. Servicers decode, call the transport-neutral layer
(server/service.py, server/oip/dataplane.py, server/training/service.py, server/automl/service.py)
and encode; they hold no logic of their own.
"""
