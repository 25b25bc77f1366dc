"""Pod metrics summed per pod, a batch of pods at a time.

A 150,000-pod metrics list arrives every metrics resolution, and almost every
pod's usage is new in it. Summing it pod by pod in Python cost several
microseconds a pod; here each batch is taken apart into flat lists with C
calls (attrgetter, map, zip), metrics-server's spellings ("243381306n",
"3096552Ki") are parsed by numpy, and the per-pod objects are built by
`map` over those lists. Anything numpy does not read (another suffix, a
decimal point, an exponent, an invalid quantity) sends that quantity, or its
whole pod, to the exact parser: the numbers are always Go's.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, compress, islice, repeat
from operator import attrgetter, eq, not_
from sys import intern
from types import MappingProxyType

import msgspec
import numpy as np

from ktopui.kube.objects import ResourceList, SampleUsage
from ktopui.model.amounts import Usage
from ktopui.model.pod_info import NO_PROBLEMS
from ktopui.model.quantity import QuantityError, simple_nanos, sum_quantities
from ktopui.model.slots import Key, Slots
from ktopui.model.usage import usage_of

BATCH = 4096
_MILLI = 1_000_000  # nano units per milli
# A container's CPU (nano cores) or memory (milli bytes) above this goes the
# exact way, so that the int64 sum of up to MAX_CONTAINERS of them cannot overflow.
_ELEMENT_LIMIT = 2**56
MAX_CONTAINERS = 64


class PodSample(msgspec.Struct, gc=False):
    """One pod's metrics, summed and rounded; the decoded metrics can then be dropped.

    Its containers (entries()) are (name, CPU nano cores, memory milli bytes)
    each when every quantity had a simple spelling (`names` then lists their
    names and `cpu_each` sums their CPU rounded one by one, as a limit share
    adds them), else (name, ResourceList) for the exact path, with `names`
    empty. Container rows are derived from them only when needed.

    Only the exact path's entries are kept as such, in `containers`. A pod of
    several containers with simple spellings keeps their numbers packed, as
    native int64 pairs (CPU nano cores, memory milli bytes) in `packed`: a
    tuple per container was ~20 MB per metrics list, all of it walked by the
    cyclic collector. A pod of one container (most pods) keeps neither: its
    container's numbers are the pod's.
    """

    timestamp: str
    window: str
    usage: Usage
    problems: Mapping[str, str]
    containers: tuple
    names: tuple = ()
    cpu_each: int | None = None
    packed: bytes = b""
    # The exact CPU sum in nano cores (-1: not known, an invalid quantity): what
    # adds up to `kubectl top pods --sum`'s total, rounded once after summing.
    cpu_nanos: int = -1

    def entries(self) -> tuple:
        names = self.names
        if self.containers or not names:
            return self.containers
        if len(names) == 1:
            usage = self.usage
            # CPU rounded up to the milli, as nano cores: rounding it up again gives the same
            return ((names[0], usage.cpu_milli * _MILLI, usage.mem_milli),)
        numbers = array("q", self.packed).tolist()
        return tuple(zip(names, numbers[0::2], numbers[1::2]))

    @property
    def measured(self) -> int:
        """How many containers were measured."""
        return len(self.names) or len(self.containers)

    def container_names(self) -> tuple[str, ...]:
        """The names of the containers measured."""
        return self.names or tuple(entry[0] for entry in self.containers)


def _resource_list(usage) -> ResourceList:
    return {name: text for name in ("cpu", "memory") if (text := usage.get(name)) is not None}


def container_usage(entry: tuple) -> tuple[Usage, Mapping[str, str]]:
    """(Usage, problems) of one container entry of a PodSample."""
    if len(entry) == 3:
        _, cpu, mem = entry
        return Usage(-(-cpu // _MILLI), -(-mem // 1000), mem), NO_PROBLEMS
    problems: dict[str, str] = {}
    return usage_of([entry[1]], problems), problems


def container_numbers(sample: PodSample) -> list[tuple[str, int | None, int | None]]:
    """(name, CPU millicores, memory bytes) of each measured container, as history records them."""
    if sample.names:  # simple entries: (name, CPU nano cores, memory milli bytes)
        return [(name, -(-cpu // _MILLI), -(-mem // 1000)) for name, cpu, mem in sample.entries()]
    numbers = []
    for entry in sample.containers:
        usage = container_usage(entry)[0]
        numbers.append((entry[0], usage.cpu_milli, usage.mem_bytes))
    return numbers


def used_milli(sample: PodSample | None, names: tuple[str, ...], resource: str) -> int | None:
    """Summed usage of the named containers, each rounded up to the milli first.

    None when none of them was measured (no metrics yet, a pod not running):
    no data, which must not read as 0 % of a limit.
    """
    if sample is None:
        return None
    if names and names == sample.names:  # the containers measured are the ones named (most pods)
        return sample.cpu_each if resource == "cpu" else sample.usage.mem_milli
    at = 1 if resource == "cpu" else 2
    used = None
    for entry in sample.entries():
        if entry[0] in names:
            used = used or 0
            if len(entry) == 3:
                used += -(-entry[1] // _MILLI) if at == 1 else entry[2]
            else:
                usage, _ = container_usage(entry)
                used += (usage.cpu_milli if at == 1 else usage.mem_milli) or 0
    return used


# -- pods by slot ----------------------------------------------------------------


class SampleTable(Mapping[Key, PodSample]):
    """One metrics list's PodSamples by slot, read as a mapping of pod key to sample.

    It answers for its own list until a slot freed after it was made goes to
    another pod (a newer list's business): keep only the newest table.
    """

    __slots__ = ("slots", "by_slot", "_len")

    def __init__(self, slots: Slots, by_slot: list[PodSample | None]) -> None:
        self.slots, self.by_slot = slots, by_slot
        self._len = len(by_slot) - by_slot.count(None)

    def get(self, key: Key, default=None):  # type: ignore[override]
        slot = self.slots.index.get(key)
        if slot is None or slot >= len(self.by_slot):
            return default
        sample = self.by_slot[slot]
        return default if sample is None else sample

    def __getitem__(self, key: Key) -> PodSample:
        sample = self.get(key)
        if sample is None:
            raise KeyError(key)
        return sample

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Key]:
        keys = self.slots.keys
        return (keys[slot] for slot, sample in enumerate(self.by_slot) if sample is not None)

    def __repr__(self) -> str:
        return f"SampleTable({self._len} pods)"


# -- summing a metrics list -----------------------------------------------------

_namespace = attrgetter("metadata.namespace")
_name = attrgetter("metadata.name")
_timestamp = attrgetter("timestamp")
_window = attrgetter("window")
_containers = attrgetter("containers")
_usage = attrgetter("usage")
_cpu = attrgetter("cpu")
_memory = attrgetter("memory")
_container_name = attrgetter("name")


def _parse(texts: list, suffix: bytes, factor: int, unit: int) -> tuple[np.ndarray, np.ndarray]:
    """Quantities in `unit` nano units as int64, and which were read (None reads as 0).

    digits+suffix is read by numpy (value * factor); other simple shapes one
    by one; what is neither, or has a fraction of the unit, or is too large,
    is marked unread.
    """
    count = len(texts)
    values = np.zeros(count, dtype=np.int64)
    read = np.zeros(count, dtype=bool)
    missing = [i for i, t in enumerate(texts) if t is None] if None in texts else []
    if missing:
        texts = list(texts)
        for i in missing:
            texts[i] = "0" + suffix.decode()
    try:
        raw = np.array(texts, dtype="S") if texts else np.zeros(0, dtype="S1")
    except UnicodeEncodeError:
        raw = None
    if raw is not None:
        core = np.strings.slice(raw, 0, -len(suffix))
        fast = (
            np.strings.endswith(raw, suffix)
            & np.strings.isdigit(core)
            & (np.strings.str_len(core) <= _digits_within_int64(factor))
        )
        found = core[fast].astype(np.int64) * factor
        small = found <= _ELEMENT_LIMIT
        at = np.flatnonzero(fast)[small]
        values[at] = found[small]
        read[at] = True
    for i in np.flatnonzero(~read).tolist():  # other spellings, one by one
        n = simple_nanos(texts[i])
        if n is not None and n % unit == 0 and n // unit <= _ELEMENT_LIMIT:
            values[i] = n // unit
            read[i] = True
    return values, read


def _digits_within_int64(factor: int) -> int:
    """How many digits times `factor` always fit in an int64."""
    return len(str((2**63 - 1) // factor)) - 1


class NewSamples:
    """The pods whose samples a list made new (what history has not seen): their
    slots and samples, in the order the list gave them."""

    __slots__ = ("slots", "samples")

    def __init__(self) -> None:
        self.slots: list[int] = []
        self.samples: list[PodSample] = []


class _Summer:
    """sample_table's state across batches: strings and name tuples kept once."""

    def __init__(self, previous: Mapping, slots: Slots, new: NewSamples | None) -> None:
        self.previous = previous
        self.new = new
        self.texts: dict[str, str] = {}  # timestamps repeat per node scrape, windows per cluster
        self.names: dict[tuple, tuple] = {}  # container name tuples repeat per workload
        self.slots = slots
        self.by_slot: list[PodSample | None] = [None] * len(slots)
        # The previous samples by slot, when they are a table of the same slots.
        self.before: list | None = None
        if isinstance(previous, SampleTable) and previous.slots is slots:
            self.before = previous.by_slot + [None] * (len(slots) - len(previous.by_slot))

    def add(self, batch: list) -> None:
        slots = self.slots
        # One lookup per pod: its slot; what follows is read and written by slot.
        at = slots.of(list(zip(map(_namespace, batch), map(_name, batch))))
        if len(self.by_slot) < len(slots):
            more = [None] * (len(slots) - len(self.by_slot))
            self.by_slot += more
            if self.before is not None:
                self.before += more
        texts = self.texts.setdefault
        stamps = list(map(_timestamp, batch))
        stamps = list(map(texts, stamps, stamps))
        windows = list(map(_window, batch))
        windows = list(map(texts, windows, windows))
        per_pod = list(map(_containers, batch))
        counts = list(map(len, per_pod))
        flat = list(chain.from_iterable(per_pod))
        usages = list(map(_usage, flat))
        if all(type(u) is SampleUsage for u in usages):
            cpu_texts, mem_texts = list(map(_cpu, usages)), list(map(_memory, usages))
        else:
            cpu_texts = [u.get("cpu") for u in usages]
            mem_texts = [u.get("memory") for u in usages]
        cpu, cpu_read = _parse(cpu_texts, b"n", 1, 1)
        mem, mem_read = _parse(mem_texts, b"Ki", 1024 * 1000, _MILLI)

        n = len(batch)
        counts_a = np.array(counts, dtype=np.int64)
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(counts_a[:-1], out=starts[1:])
        measured = np.flatnonzero(counts_a)
        first = starts[measured]

        def per_pod_sum(values: np.ndarray) -> np.ndarray:
            total = np.zeros(n, dtype=np.int64)
            if len(values):
                total[measured] = np.add.reduceat(values, first)
            return total

        unread = per_pod_sum((~(cpu_read & mem_read)).astype(np.int64))
        exact = (unread > 0) | (counts_a > MAX_CONTAINERS)
        cpu_total = per_pod_sum(cpu)
        mem_milli = per_pod_sum(mem)
        cpu_each = per_pod_sum(-(-cpu // _MILLI)).tolist()
        usages_ = list(map(
            Usage,
            (-(-cpu_total // _MILLI)).tolist(),
            (-(-mem_milli // 1000)).tolist(),
            mem_milli.tolist(),
        ))
        names = list(map(intern, map(_container_name, flat)))
        # A pod of one container keeps no numbers of its own: they are the pod's (PodSample.entries).
        if all(k == 1 for k in counts):
            packed = repeat(b"", n)
            name_tuples = list(zip(names))
        else:
            pairs = np.empty((len(cpu), 2), dtype=np.int64)
            pairs[:, 0], pairs[:, 1] = cpu, mem
            blob = pairs.tobytes()
            ends = starts + counts_a
            # Each pod's slice of the batch's pairs (b"", shared, for one container or none), by C calls.
            packed = list(map(blob.__getitem__, map(
                slice, (starts * 16).tolist(), (np.where(counts_a > 1, ends, starts) * 16).tolist())))
            spans = map(slice, starts.tolist(), ends.tolist())
            name_tuples = list(map(tuple, map(names.__getitem__, spans)))
        name_tuples = list(map(self.names.setdefault, name_tuples, name_tuples))
        samples = list(map(PodSample, stamps, windows, usages_, repeat(NO_PROBLEMS), repeat(()), name_tuples,
                           cpu_each, packed, cpu_total.tolist()))
        for i in np.flatnonzero(exact).tolist():
            samples[i] = self._exact(batch[i], stamps[i], windows[i])
        # A pod whose metrics did not change keeps its previous object (rows
        # joined from it are then kept too).
        if self.previous:
            if self.before is not None:
                known = list(map(self.before.__getitem__, at))
            else:  # (previous samples not by these slots: looked up by the slots' own keys)
                known = list(map(self.previous.get, map(slots.keys.__getitem__, at)))
            same = list(map(eq, known, samples))
            for i in [i for i, kept in enumerate(same) if kept]:
                samples[i] = known[i]
            changed = list(map(not_, same))
        else:
            changed = None
        new = self.new
        if new is not None:
            new.slots.extend(at if changed is None else compress(at, changed))
            new.samples.extend(samples if changed is None else compress(samples, changed))
        deque(map(self.by_slot.__setitem__, at, samples), maxlen=0)  # (a loop in C)

    @staticmethod
    def _exact(m, stamp: str, window: str) -> PodSample:
        shape = tuple((c.name, _resource_list(c.usage)) for c in m.containers)
        problems: dict[str, str] = {}
        usage = usage_of([entry[1] for entry in shape], problems)
        try:
            nanos = sum_quantities(rl["cpu"] for _, rl in shape if "cpu" in rl).nanos
        except QuantityError:
            nanos = -1
        return PodSample(stamp, window, usage, MappingProxyType(problems) if problems else NO_PROBLEMS, shape,
                         cpu_nanos=nanos)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def sample_table(
    metrics: Iterable,
    previous: Mapping[Key, PodSample] | None,
    slots: Slots,
    *,
    new: NewSamples | None = None,
) -> SampleTable:
    """A PodSample per pod, by `slots` (kept by the caller from list to list); a pod whose
    metrics did not change keeps its previous object.

    Takes PodMetrics or any leaner shape with metadata.namespace/name,
    timestamp, window and containers of name and usage (a ResourceList, or
    SampleUsage's cpu/memory attributes). `new` gets the slots and samples
    of the pods whose samples are new objects.
    """
    return sample_table_of_batches(_batches(metrics, BATCH), previous, slots, new=new)


def sample_table_of_batches(
    batches: Iterable[list],
    previous: Mapping[Key, PodSample] | None,
    slots: Slots,
    *,
    new: NewSamples | None = None,
) -> SampleTable:
    """sample_table() of metrics that come in batches (of about BATCH, or any size)."""
    summer = _Summer(previous or {}, slots, new)
    for batch in batches:
        summer.add(batch)
    return SampleTable(slots, summer.by_slot)


def pod_samples(metrics: Iterable, previous: SampleTable | None = None) -> SampleTable:
    """sample_table() by slots of its own (or the previous table's): for one list, or a few."""
    return sample_table(metrics, previous, previous.slots if previous is not None else Slots())
