"""Write an IKD scoring model in Python and run it as a process plugin.

The engine starts the plugin as a child process (``transport = "process"`` in
its ``plugin.toml``) and speaks the plugin messages of
``proto/ikd/plugin/v1`` to it: length-prefixed protobuf frames on stdin and
stdout (see ``process.proto``). This module does the framing and the dense
arrays, so a model is a class with a constructor and one method::

    import ikd_plugin

    class MeanModel(ikd_plugin.ScoringModel):
        name = "py-mean"
        version = "0.1.0"
        description = "unweighted mean of item scores"

        def __init__(self, config):          # a ModelConfig message
            self.layout = ikd_plugin.Layout(config)

        def score(self, batch):              # a ScoreBatch; returns a ScoreOutput
            out = ikd_plugin.ScoreOutput(batch.respondents, len(self.layout.domains))
            ...
            return out

    if __name__ == "__main__":
        ikd_plugin.run(MeanModel)

Raise :class:`Refusal` to refuse a configuration or a batch (the engine reports
it as the plugin's error, naming the item or field); any other exception is
reported as a panic and counts toward the engine's restart limit. Write logs
to stderr (``print(..., file=sys.stderr)``): stdout carries the protocol, so
``run`` points ``sys.stdout`` at stderr while the model runs.
"""

import math
import os
import struct
import sys
import traceback
from array import array

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = [
    "Layout",
    "Refusal",
    "ScoreBatch",
    "ScoreOutput",
    "ScoringModel",
    "band_of",
    "messages",
    "run",
]

ABI_MAJOR = 1

# Status codes and method ids of the plugin ABI (crates/ikd-plugin-sdk/src/abi.rs).
OK, ERROR, PANIC, UNKNOWN_METHOD, BAD_REQUEST = 0, 1, 2, 3, 4
MODEL_SCORE = 16
SCORING_MODEL_KIND = 2  # PluginKind.PLUGIN_KIND_SCORING_MODEL

# AnswerStatus values: answered and "don't know" both count as answered.
ANSWERED, SKIPPED, NOT_APPLICABLE, INVALID, DONT_KNOW = 0, 1, 2, 3, 4


def _load_messages():
    """Message classes of ikd.plugin.v1, built from the encoded descriptor set
    the SDK's build writes (kept current by a test), so no generated code."""
    path = os.path.join(os.path.dirname(__file__), "ikd_plugin_v1.binpb")
    with open(path, "rb") as f:
        files = descriptor_pb2.FileDescriptorSet.FromString(f.read()).file
    classes = message_factory.GetMessages(list(files), pool=descriptor_pool.DescriptorPool())
    prefix = "ikd.plugin.v1."
    return type(
        "Messages",
        (),
        {name[len(prefix):]: cls for name, cls in classes.items() if name.startswith(prefix)},
    )


messages = _load_messages()


class Refusal(Exception):
    """The model refuses its configuration or a batch.

    ``violations`` is a list of ``(item, field, message)`` tuples naming what is wrong.
    """

    def __init__(self, message, violations=()):
        super().__init__(message)
        self.violations = list(violations)


def band_of(bands, value):
    """Index of the band holding ``value``: bands are ``[min, max)``, the last
    one includes its max; -1 for a missing value (NaN)."""
    if math.isnan(value) or not bands:
        return -1
    for i, band in enumerate(bands):
        if value < band.max:
            return i
    return len(bands) - 1


class Layout:
    """What a model usually needs from its ``ModelConfig``, in plain lists."""

    def __init__(self, config):
        self.config = config
        self.domains = list(config.domains)
        self.items = list(config.items)
        self.bands = list(config.bands)
        self.min_domains = max(config.min_domains, 1)
        # Item positions of each domain, in instrument order.
        self.domain_items = [[] for _ in self.domains]
        for i, item in enumerate(self.items):
            if item.domain >= len(self.domains):
                raise Refusal(
                    "item refers to a domain that does not exist",
                    [(item.id, "domain", "domain %d of %d" % (item.domain, len(self.domains)))],
                )
            if not item.score_max > item.score_min:
                raise Refusal(
                    "item has an empty score range",
                    [(item.id, "score_max", "must be above score_min")],
                )
            self.domain_items[item.domain].append(i)


class ScoreBatch:
    """A batch of respondents: item scores (already keyed by the domain plugins)
    and answer statuses, respondent-major."""

    def __init__(self, request, items):
        self.respondents = request.respondents
        self.items = items
        self.scores = array("d")
        self.scores.frombytes(request.item_scores)
        self.status = bytes(request.item_status)
        if sys.byteorder != "little":
            self.scores.byteswap()
        expected = self.respondents * items
        if len(self.scores) != expected or len(self.status) != expected:
            raise Refusal(
                "batch of the wrong size: %d scores and %d statuses for %d x %d cells"
                % (len(self.scores), len(self.status), self.respondents, items)
            )

    def cell(self, respondent, item):
        """``(score, status)`` of one cell."""
        k = respondent * self.items + item
        return self.scores[k], self.status[k]


class ScoreOutput:
    """Results of a batch, filled by the model: missing values stay NaN / -1."""

    def __init__(self, respondents, domains):
        nan = float("nan")
        self.respondents = respondents
        self.domains = domains
        self.domain_scores = array("d", [nan]) * (respondents * domains)
        self.domain_se = array("d", [nan]) * (respondents * domains)
        self.domain_answered = array("I", [0]) * (respondents * domains)
        self.domain_levels = array("i", [-1]) * (respondents * domains)
        self.index = array("d", [nan]) * respondents
        self.index_se = array("d", [nan]) * respondents
        self.index_levels = array("i", [-1]) * respondents

    def encode(self):
        def le(values):
            if sys.byteorder != "little":
                values = array(values.typecode, values)
                values.byteswap()
            return values.tobytes()

        return messages.ScoreResponse(
            respondents=self.respondents,
            domains=self.domains,
            domain_scores=le(self.domain_scores),
            domain_se=le(self.domain_se),
            domain_answered=le(self.domain_answered),
            domain_levels=le(self.domain_levels),
            index=le(self.index),
            index_se=le(self.index_se),
            index_levels=le(self.index_levels),
        ).SerializeToString()


class ScoringModel:
    """Base class of a scoring model: set ``name``, ``version``, ``description``;
    implement ``__init__(self, config)`` and ``score(self, batch) -> ScoreOutput``."""

    name = None
    version = "0.1.0"
    description = ""

    def score(self, batch):
        raise NotImplementedError

    @classmethod
    def info(cls):
        from importlib.metadata import PackageNotFoundError, version

        try:
            sdk = "python-" + version("protobuf")
        except PackageNotFoundError:
            sdk = "python"
        return messages.PluginInfo(
            name=cls.name,
            version=cls.version,
            kind=SCORING_MODEL_KIND,
            description=cls.description,
            sdk_version=sdk,
        )


def _error(message, violations=()):
    return messages.PluginError(
        message=message,
        violations=[
            messages.Violation(item=item or "", field=field or "", message=text)
            for item, field, text in violations
        ],
    ).SerializeToString()


def _read_frame(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    (length,) = struct.unpack("<I", head)
    body = stream.read(length)
    if len(body) < length:
        return None
    return body


def _write_frame(stream, payload):
    stream.write(struct.pack("<I", len(payload)))
    stream.write(payload)
    stream.flush()


class _Host:
    """The message loop: one answer per host message, in order."""

    def __init__(self, model_class):
        self.model_class = model_class
        self.instances = {}
        self.next_id = 1

    def answer(self, message):
        body = message.WhichOneof("body")
        if body == "hello":
            if message.hello.abi_major != ABI_MAJOR:
                return BAD_REQUEST, _error(
                    "this helper speaks plugin ABI %d, the host %d"
                    % (ABI_MAJOR, message.hello.abi_major)
                ), 0
            return OK, self.model_class.info().SerializeToString(), 0
        if body == "create":
            config = messages.ModelConfig.FromString(message.create.config)
            instance = self.model_class(config)
            key = self.next_id
            self.next_id += 1
            self.instances[key] = instance
            return OK, b"", key
        if body == "invoke":
            call = message.invoke
            instance = self.instances.get(call.instance)
            if instance is None:
                return BAD_REQUEST, _error("no instance %d" % call.instance), 0
            if call.method != MODEL_SCORE:
                return UNKNOWN_METHOD, _error("method %d is not known" % call.method), 0
            request = messages.ScoreRequest.FromString(call.request)
            items = len(instance_layout(instance).items)
            output = instance.score(ScoreBatch(request, items))
            return OK, output.encode(), 0
        if body == "destroy":
            self.instances.pop(message.destroy.instance, None)
            return OK, b"", 0
        return BAD_REQUEST, _error("empty host message"), 0


def instance_layout(instance):
    """The ``Layout`` a model keeps as ``self.layout`` (required by ``run``)."""
    layout = getattr(instance, "layout", None)
    if not isinstance(layout, Layout):
        raise TypeError("a ScoringModel must set self.layout = ikd_plugin.Layout(config)")
    return layout


def run(model_class, stdin=None, stdout=None):
    """Serves ``model_class`` on stdin/stdout until the host closes stdin."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() must not corrupt the protocol
    host = _Host(model_class)
    while True:
        frame = _read_frame(stdin)
        if frame is None:
            return
        message = messages.HostMessage.FromString(frame)
        try:
            status, body, instance = host.answer(message)
        except Refusal as refusal:
            status, body, instance = ERROR, _error(str(refusal), refusal.violations), 0
        except Exception as exc:  # reported to the host as a panic, never fatal here
            traceback.print_exc(file=sys.stderr)
            status, body, instance = PANIC, _error("%s: %s" % (type(exc).__name__, exc)), 0
        reply = messages.PluginMessage(call=message.call, status=status, body=body, instance=instance)
        _write_frame(stdout, reply.SerializeToString())
