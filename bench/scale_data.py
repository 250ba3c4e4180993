"""The rows of a production-sized Galaxy database, per table, as COPY text lines.

Proportions (per job unless said; an ESTIMATE, reasoned from how Galaxy records work and
from the order of magnitude of usegalaxy.org's public numbers — hundreds of thousands of
users, hundreds of millions of jobs and datasets — not measured on a real server):

- users: 1 per 200 jobs; histories: 8 per user (most users keep a handful, a few thousands)
- datasets: 2 per job (a typical tool writes 1-3 outputs), each with one HDA in the job's
  history, plus 0.3 copied HDAs per dataset (histories copied, datasets dragged between)
- job_to_output_dataset: 2 (one per output HDA); job_to_input_dataset: 1.5 (earlier HDAs)
- job_parameter: 6 (one row per top-level tool input; tools have roughly 3-20)
- job_metric_numeric: 5 (Galaxy's core plugin: galaxy_slots, galaxy_memory_mb,
  start_epoch, end_epoch, runtime_seconds); job_metric_text: 1 (the hostname plugin)
- collections: 1 list per 20 jobs, 10 elements each, each in one history (an HDCA)
- stored workflows: 1 per 5 users, 5 tool steps each; invocations: 1 per 50 jobs, each
  with 5 steps pointing at jobs
Row ids are dense from 1 and every reference points at an existing row (foreign keys valid).

The large scale (``bench/scale.py``'s ``LARGE``: 10M jobs, 20M datasets) keeps jobs, datasets,
one HDA per dataset and the output links, but drops the per-job child rows none of the
25.0 -> head revisions touches (parameters, metrics), copied HDAs, and halves the input links
and collection elements: with the proportions above it would be ~38 GB, and its measurement
needs room for two copies at once on a disk shared with other work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

STAMPS = [f"2024-{1 + m % 12:02d}-{1 + d:02d} {h:02d}:17:03" for m in range(12) for d in range(28) for h in (3, 15)]
STATES = ["ok"] * 17 + ["error", "error", "deleted"]
TOOLS = [f"toolshed.g2.bx.psu.edu/repos/iuc/tool_{n}/tool_{n}" for n in range(400)]
EXTENSIONS = ["fastqsanger.gz", "bam", "tabular", "vcf", "txt", "bed", "fasta", "html"]
PARAMETERS = ["input", "reference_source", "advanced", "output_options", "__job_resource", "chromInfo"]
METRICS = ["galaxy_slots", "galaxy_memory_mb", "start_epoch", "end_epoch", "runtime_seconds"]


@dataclass(frozen=True)
class Volume:
    """Row counts per table; the per-job child rows are fields so a large scale can fit the disk."""

    jobs: int
    parameters_per_job: int = len(PARAMETERS)
    numeric_metrics_per_job: int = len(METRICS)
    text_metrics_per_job: int = 1
    copied_hdas_per_ten_datasets: int = 3
    inputs_per_two_jobs: int = 3
    elements_per_collection: int = 10

    @property
    def users(self) -> int:
        return max(2, self.jobs // 200)

    @property
    def histories(self) -> int:
        return self.users * 8

    @property
    def datasets(self) -> int:
        return self.jobs * 2

    @property
    def hdas(self) -> int:
        return self.datasets + self.datasets * self.copied_hdas_per_ten_datasets // 10

    @property
    def collections(self) -> int:
        return max(1, self.jobs // 20)

    @property
    def workflows(self) -> int:
        return max(1, self.users // 5)

    @property
    def invocations(self) -> int:
        return max(1, self.jobs // 50)

    def history_of_job(self, job: int) -> int:
        return (job * 7919) % self.histories + 1

    def user_of_history(self, history: int) -> int:
        return (history - 1) % self.users + 1

    def history_of_hda(self, hda: int) -> int:
        if hda <= self.datasets:
            return self.history_of_job((hda - 1) // 2 + 1)
        return (hda * 104729) % self.histories + 1


def _t(n: int) -> str:
    return STAMPS[n % len(STAMPS)]


def galaxy_user(v: Volume) -> Iterator[str]:
    for u in range(1, v.users + 1):
        t = _t(u)
        yield f"{u}\t{t}\t{t}\tuser{u}@example.org\tuser{u}\tPBKDF2$sha256$100000$salt{u}$hash\tt\tf\tf\tf"


def history(v: Volume) -> Iterator[str]:
    for h in range(1, v.histories + 1):
        t = _t(h)
        deleted = "t" if h % 11 == 0 else "f"
        yield f"{h}\t{t}\t{t}\t{v.user_of_history(h)}\tHistory {h}\t100\t{deleted}\tf\tf\tf\tf\tf"


def job(v: Volume) -> Iterator[str]:
    for j in range(1, v.jobs + 1):
        h = v.history_of_job(j)
        tool, t, state = TOOLS[j % len(TOOLS)], _t(j), STATES[j % len(STATES)]
        command = f"python '$__tool_directory__/{tool[-10:]}.py' --input /data/{j}.dat --threads 4 > out_{j}.txt"
        yield (
            f"{j}\t{t}\t{t}\t{h}\t{v.user_of_history(h)}\t{tool}\t1.{j % 9}.0\t25.0\t{state}\t"
            f"handler_{j % 4}\tfiles{j % 3}\tf\t{command}\t0\tslurm\tslurm_normal"
        )


def dataset(v: Volume) -> Iterator[str]:
    for d in range(1, v.datasets + 1):
        t, size = _t(d), 1000 + (d * 2654435761) % 5_000_000_000
        purged = "t" if d % 23 == 0 else "f"
        yield f"{d}\t{(d - 1) // 2 + 1}\t{t}\t{t}\tok\t{purged}\t{purged}\tt\tfiles{d % 3}\t{size}\t{size}\t{d:032x}"


def history_dataset_association(v: Volume) -> Iterator[str]:
    for a in range(1, v.hdas + 1):
        d = a if a <= v.datasets else (a * 31) % v.datasets + 1
        t, ext = _t(a), EXTENSIONS[a % len(EXTENSIONS)]
        hid = a  # unique within its history, as Galaxy's hid counter makes it
        yield (
            f"{a}\t{v.history_of_hda(a)}\t{d}\t{t}\t{t}\tok\tOutput {a}.{ext}\t\t{a % 997} lines\t{ext}"
            f"\tf\tt\t{hid}\tf\tunknown\t1\tf"
        )


def job_to_output_dataset(v: Volume) -> Iterator[str]:
    for a in range(1, v.datasets + 1):
        yield f"{a}\t{(a - 1) // 2 + 1}\t{a}\toutput{(a - 1) % 2}"


def job_to_input_dataset(v: Volume) -> Iterator[str]:
    per_two = v.inputs_per_two_jobs
    for k in range(1, v.jobs * per_two // 2 + 1):
        j = (k - 1) * 2 // per_two + 1
        hda = max(1, 2 * (j - 1) - (k % 5) * 2)  # an output of an earlier job
        yield f"{k}\t{j}\t{hda}\t1\tinput{k % 2}"


def job_parameter(v: Volume) -> Iterator[str]:
    n = v.parameters_per_job
    for k in range(1, v.jobs * n + 1):
        j, name = (k - 1) // n + 1, PARAMETERS[(k - 1) % n]
        yield f'{k}\t{j}\t{name}\t{{"values": [{{"src": "hda", "id": {k}}}], "__class__": "Param"}}'


def job_metric_numeric(v: Volume) -> Iterator[str]:
    n = v.numeric_metrics_per_job
    for k in range(1, v.jobs * n + 1):
        j = (k - 1) // n + 1
        yield f"{k}\t{j}\tcore\t{METRICS[(k - 1) % n]}\t{(k * 7) % 100000}.0000000"


def job_metric_text(v: Volume) -> Iterator[str]:
    for j in range(1, v.jobs * v.text_metrics_per_job + 1):
        yield f"{j}\t{j}\thostname\thostname\tnode{j % 64:03d}.cluster.example.org"


def dataset_collection(v: Volume) -> Iterator[str]:
    for c in range(1, v.collections + 1):
        yield f"{c}\tlist\tok\t{v.elements_per_collection}\t{_t(c)}\t{_t(c)}"


def dataset_collection_element(v: Volume) -> Iterator[str]:
    n = v.elements_per_collection
    for e in range(1, v.collections * n + 1):
        yield f"{e}\t{(e - 1) // n + 1}\t{(e - 1) % v.datasets + 1}\t{(e - 1) % n}\tsample_{(e - 1) % n}"


def history_dataset_collection_association(v: Volume) -> Iterator[str]:
    for c in range(1, v.collections + 1):
        yield f"{c}\t{c}\t{v.history_of_job(c * 20)}\tCollection {c}\t{v.hdas + c}\tt\tf\t{_t(c)}\t{_t(c)}"


def stored_workflow(v: Volume) -> Iterator[str]:
    for w in range(1, v.workflows + 1):
        yield f"{w}\t{_t(w)}\t{_t(w)}\t{(w - 1) % v.users + 1}\t{w}\tWorkflow {w}\tf\tf\tf\tf"


def workflow(v: Volume) -> Iterator[str]:
    for w in range(1, v.workflows + 1):
        yield f"{w}\t{_t(w)}\t{_t(w)}\t{w}\tWorkflow {w}\tf\tf"


def workflow_step(v: Volume) -> Iterator[str]:
    for s in range(1, v.workflows * 5 + 1):
        yield f"{s}\t{_t(s)}\t{_t(s)}\t{(s - 1) // 5 + 1}\ttool\t{TOOLS[s % len(TOOLS)]}\t{(s - 1) % 5}"


def workflow_invocation(v: Volume) -> Iterator[str]:
    for i in range(1, v.invocations + 1):
        yield f"{i}\t{_t(i)}\t{_t(i)}\t{(i - 1) % v.workflows + 1}\tscheduled\t{v.history_of_job(i * 50)}\t{i:032x}"


def workflow_invocation_step(v: Volume) -> Iterator[str]:
    for s in range(1, v.invocations * 5 + 1):
        i = (s - 1) // 5 + 1
        step = ((i - 1) % v.workflows) * 5 + (s - 1) % 5 + 1
        yield f"{s}\t{_t(s)}\t{_t(s)}\t{i}\t{step}\t{min(v.jobs, (i - 1) * 50 + (s - 1) % 5 + 1)}\tscheduled"


# table, its COPY columns, the row generator; in load order
TABLES = [
    ("galaxy_user", "id,create_time,update_time,email,username,password,active,deleted,purged,external", galaxy_user),
    (
        "history",
        "id,create_time,update_time,user_id,name,hid_counter,deleted,purged,importing,importable,published,archived",
        history,
    ),
    (
        "job",
        "id,create_time,update_time,history_id,user_id,tool_id,tool_version,galaxy_version,state,handler,"
        "object_store_id,imported,command_line,exit_code,job_runner_name,destination_id",
        job,
    ),
    (
        "dataset",
        "id,job_id,create_time,update_time,state,deleted,purged,purgable,object_store_id,file_size,total_size,uuid",
        dataset,
    ),
    (
        "history_dataset_association",
        "id,history_id,dataset_id,create_time,update_time,state,name,info,blurb,"
        "extension,deleted,visible,hid,purged,validated_state,version,metadata_deferred",
        history_dataset_association,
    ),
    ("job_to_output_dataset", "id,job_id,dataset_id,name", job_to_output_dataset),
    ("job_to_input_dataset", "id,job_id,dataset_id,dataset_version,name", job_to_input_dataset),
    ("job_parameter", "id,job_id,name,value", job_parameter),
    ("job_metric_numeric", "id,job_id,plugin,metric_name,metric_value", job_metric_numeric),
    ("job_metric_text", "id,job_id,plugin,metric_name,metric_value", job_metric_text),
    (
        "dataset_collection",
        "id,collection_type,populated_state,element_count,create_time,update_time",
        dataset_collection,
    ),
    (
        "dataset_collection_element",
        "id,dataset_collection_id,hda_id,element_index,element_identifier",
        dataset_collection_element,
    ),
    (
        "history_dataset_collection_association",
        "id,collection_id,history_id,name,hid,visible,deleted,create_time,update_time",
        history_dataset_collection_association,
    ),
    (
        "stored_workflow",
        "id,create_time,update_time,user_id,latest_workflow_id,name,deleted,hidden,importable,published",
        stored_workflow,
    ),
    ("workflow", "id,create_time,update_time,stored_workflow_id,name,has_cycles,has_errors", workflow),
    ("workflow_step", "id,create_time,update_time,workflow_id,type,tool_id,order_index", workflow_step),
    ("workflow_invocation", "id,create_time,update_time,workflow_id,state,history_id,uuid", workflow_invocation),
    (
        "workflow_invocation_step",
        "id,create_time,update_time,workflow_invocation_id,workflow_step_id,job_id,state",
        workflow_invocation_step,
    ),
]
