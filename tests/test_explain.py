"""``fixtures.explain`` reads both of kubectl's explain formats (KCTL-EXPLAIN and HOOK-TWO-HOOKS run the release's
own kubectl: 1.26 and older print the OpenAPI v2 format)."""

from __future__ import annotations

from k8s_doc_conformance.fixtures import explain

#: kubectl 1.35, ``explain pod.spec.containers.lifecycle --recursive`` (shortened).
V3 = """GROUP:
KIND:       Pod
VERSION:    v1

FIELD: lifecycle <Lifecycle>

DESCRIPTION:
    Actions that the management system should take in response to container
    lifecycle events. Cannot be updated.

FIELDS:
  postStart\t<LifecycleHandler>
    exec\t<ExecAction>
      command\t<[]string>
    httpGet\t<HTTPGetAction>
      host\t<string>
      port\t<IntOrString> -required-
  preStop\t<LifecycleHandler>
    exec\t<ExecAction>
      command\t<[]string>
    httpGet\t<HTTPGetAction>
      port\t<IntOrString> -required-
  stopSignal\t<string>
  enum: SIGABRT, SIGALRM, SIGBUS, SIGCHLD, ....

"""

#: kubectl 1.26, the same command (shortened).
V2 = """KIND:     Pod
VERSION:  v1

RESOURCE: lifecycle <Object>

DESCRIPTION:
     Actions that the management system should take in response to container
     lifecycle events. Cannot be updated.

FIELDS:
   postStart\t<Object>
      exec\t<Object>
         command\t<[]string>
      httpGet\t<Object>
         host\t<string>
         port\t<string> -required-
   preStop\t<Object>
      exec\t<Object>
         command\t<[]string>
      httpGet\t<Object>
         port\t<string> -required-

"""

#: kubectl 1.26, ``explain pods`` (non-recursive: descriptions under each field).
V2_FLAT = """KIND:     Pod
VERSION:  v1

DESCRIPTION:
     Pod is a collection of containers that can run on a host.

FIELDS:
   apiVersion\t<string>
     APIVersion defines the versioned schema of this representation of an
     object.

   kind\t<string>
     Kind is a string value representing the REST resource this object
     represents.

   spec\t<Object>
     Specification of the desired behavior of the pod.
"""


def test_both_formats_give_the_same_tree() -> None:
    for text in (V3, V2):
        tree = explain.fields(text)
        assert list(tree)[:2] == ["postStart", "preStop"]
        assert list(tree["postStart"].fields) == ["exec", "httpGet"]
        assert list(tree["postStart"].fields["httpGet"].fields) == ["host", "port"]
        assert list(tree["preStop"].fields["exec"].fields) == ["command"]
    assert explain.fields(V3)["postStart"].type == "LifecycleHandler"
    assert explain.fields(V2)["postStart"].type == "Object"
    assert explain.fields(V3)["stopSignal"].fields == {}


def test_descriptions_are_not_fields() -> None:
    assert list(explain.fields(V2_FLAT)) == ["apiVersion", "kind", "spec"]
    assert explain.fields("error: the server doesn't have a resource type") == {}
