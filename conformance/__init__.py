"""k8s-doc-conformance: the scenarios that check a Kubernetes cluster against the documentation for containers.

Installed, this folder is the package ``k8s_doc_conformance`` (``pytest --pyargs k8s_doc_conformance``); the folders
``fixtures/`` and ``reports/`` are its subpackages ``k8s_doc_conformance.fixtures`` and ``.reports``. It also holds
the claim catalogue (``claims.yaml``), the expectations (``expected/``), the deviation profiles (``profiles.yaml``),
their schemas (``schema/``) and the suite's kind config (``kind-config.yaml``, the checkout's top-level file).
"""
