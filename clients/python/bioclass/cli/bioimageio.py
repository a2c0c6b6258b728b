"""`bioclass export-bioimageio` and `bioclass import-bioimageio`: models to and from the BioImage Model Zoo format."""
from __future__ import annotations


def add_bioimageio_commands(command) -> None:
    export = command("export-bioimageio", run_export, "Export a served model as a bioimage.io package (zip).")
    export.add_argument("model", metavar="MODEL_ID", help="id of the served model")
    export.add_argument("--out", default=None, help="zip to write (default: MODEL_ID.bioimageio.zip)")

    imported = command("import-bioimageio", run_import, "Serve a bioimage.io model package (zip, spec 0.5).")
    imported.add_argument("package", metavar="PACKAGE_ZIP", help="bioimage.io package (zip)")
    imported.add_argument("--id", dest="model_id", default="", help="id of the new model (default: from the package)")
    imported.add_argument("--overwrite", action="store_true", help="replace a registered model with the same id")


def run_export(args) -> int:
    from bioclass.client import Client

    with Client(args.server) as client:
        path = client.export_bioimageio(args.model, args.out)
    print(f"exported {args.model} to {path}")
    return 0


def run_import(args) -> int:
    from bioclass.client import Client

    with Client(args.server) as client:
        card = client.import_bioimageio(args.package, args.model_id, overwrite=args.overwrite)
    print(f"imported {card.id} ({card.framework}, {card.format}; labels: {', '.join(card.output.labels)}) "
          f"at {card.path}")
    return 0
