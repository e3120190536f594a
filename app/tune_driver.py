#!/usr/bin/python3
"""The driver behind `rlforge tune`: Optuna samples (TPE) and prunes (median pruner); every trial
is a real `rlforge train` run whose in-training evaluations (eval.csv, validation seeds) are
reported to Optuna as they appear, so a trial below the median of earlier trials at the same step
stops early. The study lives in SQLite, so a stopped search resumes where it was.

`rlforge tune` checks the arguments, runs this with Debian's python3 (python3-optuna) and draws
the plot of trial scores afterwards; run it directly only for debugging.

Outputs in --out: trials/trial-N/seed-S/ (the runs) and their logs trials/trial-N/seed-S.log,
trials.csv, best.yaml (the
config with the best trial's parameters) and tune.yaml (the best trial and the study's figures).
"""

import argparse
import csv
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

try:
    import optuna
    import yaml
except ImportError as error:  # one clear line, as rlforge's own errors
    sys.exit(f"rlforge tune: error: {error.name} is missing (Debian: apt-get install python3-optuna python3-yaml; "
             "scripts/install-deps.sh installs both)")


def parse_distribution(text):
    """KEY=DIST -> (key, kind, values): loguniform:a:b, uniform:a:b, int:a:b, choice:a,b,c."""
    key, sep, dist = text.partition("=")
    kind, _, rest = dist.partition(":")
    if not sep or not key or not rest:
        raise ValueError(f"--param {text}: expected KEY=DIST, DIST one of loguniform:LOW:HIGH, uniform:LOW:HIGH, "
                         "int:LOW:HIGH, choice:A,B,...")
    if kind == "choice":
        values = [yaml.safe_load(v) for v in rest.split(",")]
        if len(values) < 2:
            raise ValueError(f"--param {text}: a choice needs at least two values")
        return key, kind, values
    bounds = rest.split(":")
    if kind not in ("loguniform", "uniform", "int") or len(bounds) != 2:
        raise ValueError(f"--param {text}: expected loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH or choice:A,B,...")
    try:
        low, high = (int(b) for b in bounds) if kind == "int" else (float(b) for b in bounds)
    except ValueError:
        raise ValueError(f"--param {text}: bounds '{bounds[0]}' and '{bounds[1]}' must be numbers") from None
    if not low < high or (kind == "loguniform" and low <= 0):
        raise ValueError(f"--param {text}: expected LOW < HIGH" + (" and LOW > 0" if kind == "loguniform" else ""))
    return key, kind, (low, high)


def suggest(trial, key, kind, values):
    if kind == "loguniform":
        return trial.suggest_float(key, values[0], values[1], log=True)
    if kind == "uniform":
        return trial.suggest_float(key, values[0], values[1])
    if kind == "int":
        return trial.suggest_int(key, values[0], values[1])
    return trial.suggest_categorical(key, values)


def read_evaluations(path):
    """(env_steps, mean_return) rows of eval.csv written so far (a partial last line is skipped)."""
    rows = []
    try:
        with open(path, newline="") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return rows
    if len(lines) < 2:
        return rows
    value_col = lines[0].split(",").index("mean_return")  # the first column is env_steps
    for line in lines[1:-1]:  # the text after the last newline may be a row still being written
        cells = line.split(",")
        rows.append((int(float(cells[0])), float(cells[value_col])))
    return rows


def set_key(config, dotted, value):
    node = config
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


class ConfigLoader(yaml.SafeLoader):
    """YAML as rlforge reads it: "1e-08" is a number (PyYAML's own floats need a dot)."""


ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"), list("-+0123456789."))


def resolved_config(rlforge, path, sets=()):
    """CONFIG as rlforge trains it, from `rlforge config`: extends merged, defaults filled in, paths
    made absolute, --set applied. One reader of configs (rlforge's), so the driver never disagrees
    with it."""
    command = [rlforge, "config", path] + [arg for s in sets for arg in ("--set", s)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise ValueError(done.stderr.strip() or f"{' '.join(command)} exited {done.returncode}")
    return yaml.load(done.stdout, Loader=ConfigLoader)


class Tuner:
    def __init__(self, args):
        self.args = args
        self.params = [parse_distribution(p) for p in args.param]
        self.trials_dir = os.path.join(args.out, "trials")
        os.makedirs(self.trials_dir, exist_ok=True)
        self.print_lock = threading.Lock()

    def say(self, line):
        with self.print_lock:
            print(line, flush=True)

    def objective(self, trial):
        """Trains the trial's parameters on --trial-seeds seeds at once; the trial reports the mean
        over its seeds of each evaluation, once every seed has made it, and scores the mean of
        the seeds' scores (one seed's luck then weighs less in the choice)."""
        values = {key: suggest(trial, key, kind, v) for key, kind, v in self.params}
        trial_dir = os.path.join(self.trials_dir, f"trial-{trial.number}")
        if os.path.exists(trial_dir):  # left by an earlier search whose study file is gone
            shutil.rmtree(trial_dir)
        os.makedirs(trial_dir)
        seeds = [self.args.base_seed + k for k in range(self.args.trial_seeds)]
        run_dirs = [os.path.join(trial_dir, f"seed-{seed}") for seed in seeds]
        children, logs = [], []
        start = time.monotonic()
        for seed, run_dir in zip(seeds, run_dirs):
            command = [self.args.rlforge, "train", self.args.config, "--run-dir", run_dir]
            for override in self.args.set:
                command += ["--set", override]
            for key, value in values.items():
                command += ["--set", f"{key}={value}"]
            command += ["--set", f"run.seed={seed}"]
            logs.append(open(os.path.join(trial_dir, f"seed-{seed}.log"), "w"))
            children.append(subprocess.Popen(command, stdout=logs[-1], stderr=subprocess.STDOUT))
        reported, pruned_at = 0, None
        try:
            while True:
                done = all(c.poll() is not None for c in children)
                per_seed = [read_evaluations(os.path.join(d, "eval.csv")) for d in run_dirs]
                common = min(len(rows) for rows in per_seed)
                while pruned_at is None and reported < common:
                    steps = per_seed[0][reported][0]
                    trial.report(sum(rows[reported][1] for rows in per_seed) / len(per_seed), steps)
                    reported += 1
                    if trial.should_prune():
                        pruned_at = steps
                        for c in children:
                            if c.poll() is None:
                                c.send_signal(signal.SIGINT)  # it writes last.pt and stops
                if done:
                    break
                time.sleep(0.2)
        finally:
            for log in logs:
                log.close()
        seconds = time.monotonic() - start
        trial.set_user_attr("wall_seconds", seconds)
        trial.set_user_attr("run_dir", trial_dir)
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
        if pruned_at is not None:
            trial.set_user_attr("pruned_at", pruned_at)
            self.say(f"trial {trial.number} pruned at {pruned_at} steps ({seconds:.1f} s): {shown}")
            raise optuna.TrialPruned()
        for seed, child in zip(seeds, children):
            if child.returncode != 0:
                log_path = os.path.join(trial_dir, f"seed-{seed}.log")
                self.say(f"trial {trial.number} failed: rlforge train exited {child.returncode} (log: {log_path})")
                raise RuntimeError(f"trial {trial.number}: rlforge train exited {child.returncode}; see {log_path}")
        scores = []
        for run_dir in run_dirs:
            rows = read_evaluations(os.path.join(run_dir, "eval.csv"))
            if not rows:
                raise RuntimeError(f"trial {trial.number}: {run_dir}/eval.csv holds no evaluation")
            # final: the last evaluation (validation seeds), as the RL Zoo scores a trial; curve:
            # the mean of all evaluations, the area under the learning curve, which rewards
            # reaching a score sooner (ties at a maximum return, e.g. CartPole's 500, otherwise
            # look alike).
            scores.append(rows[-1][1] if self.args.objective == "final" else sum(v for _, v in rows) / len(rows))
        score = sum(scores) / len(scores)
        self.say(f"trial {trial.number}: {self.args.objective} score {score:.2f} ({seconds:.1f} s): {shown}")
        return score

    def starting_values(self):
        """CONFIG's values (after --set) of the searched keys that lie inside their distributions."""
        config = resolved_config(self.args.rlforge, self.args.config, self.args.set)
        start = {}
        for key, kind, values in self.params:
            node = config
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if node is None or isinstance(node, (dict, list)):
                continue
            if kind == "choice":
                if node in values:
                    start[key] = node
            elif isinstance(node, (int, float)) and not isinstance(node, bool) and values[0] <= node <= values[1]:
                if kind != "int" or float(node).is_integer():
                    start[key] = int(node) if kind == "int" else float(node)
        return start

    def run(self):
        a = self.args
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own line per trial instead
        sampler = optuna.samplers.TPESampler(seed=a.seed, n_startup_trials=a.startup_trials)
        pruner = (optuna.pruners.MedianPruner(n_startup_trials=a.startup_trials, n_warmup_steps=a.warmup_steps)
                  if a.prune == "median" else optuna.pruners.NopPruner())
        study = optuna.create_study(storage=f"sqlite:///{os.path.abspath(a.study)}", study_name="rlforge-tune",
                                    direction="maximize", sampler=sampler, pruner=pruner, load_if_exists=True)
        # Trials a stopped search left running will never report again.
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            study._storage.set_trial_state_values(t._trial_id, optuna.trial.TrialState.FAIL)
        if not study.trials:
            start = self.starting_values()
            if start:  # so that the search's best is never worse, on its own score, than CONFIG
                study.enqueue_trial(start)
                self.say("trial 0 runs CONFIG's own values: " + ", ".join(f"{k}={v}" for k, v in start.items()))
        ended = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
        left = a.trials - len(ended)
        self.say(f"study {a.study}: {len(ended)} trials ended before, {max(left, 0)} to run, {a.jobs} at a time, "
                 f"sampler TPE (seed {a.seed}), pruner {a.prune}")
        start = time.monotonic()
        if left > 0:
            self.run_trials(study, left, a.jobs)
        self.write_outputs(study, time.monotonic() - start)

    def run_trials(self, study, count, jobs):
        """COUNT trials, JOBS at a time, through ask and tell. Optuna 3.1's study.optimize with
        n_jobs > 1 can hand the one enqueued trial (CONFIG's values) to two threads at once, which
        then train into the same directory; here a lock makes each ask() take a trial of its own."""
        lock = threading.Lock()
        left = [count]
        errors = []  # an unexpected error in a worker, raised again here once the others finish

        def worker():
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                    trial = study.ask()
                try:
                    value = self.objective(trial)
                except optuna.TrialPruned:
                    outcome = {"state": optuna.trial.TrialState.PRUNED}
                except RuntimeError:  # the objective said which trial failed and where its log is
                    outcome = {"state": optuna.trial.TrialState.FAIL}
                except BaseException as error:
                    with lock:
                        study.tell(trial, state=optuna.trial.TrialState.FAIL)
                        errors.append(error)
                        left[0] = 0
                    return
                else:
                    outcome = {"values": value}
                with lock:
                    study.tell(trial, **outcome)

        threads = [threading.Thread(target=worker) for _ in range(max(1, min(jobs, count)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def write_outputs(self, study, session_seconds):
        a = self.args
        trials = study.trials
        with open(os.path.join(a.out, "trials.csv.partial"), "w", newline="") as f:
            w = csv.writer(f)
            keys = [key for key, _, _ in self.params]
            w.writerow(["number", "state", "value", "last_reported_step", "last_reported_value", "wall_seconds"] + keys)
            for t in trials:
                steps = max(t.intermediate_values) if t.intermediate_values else ""
                last = t.intermediate_values[steps] if t.intermediate_values else ""
                w.writerow([t.number, t.state.name, "" if t.value is None else t.value, steps, last,
                            t.user_attrs.get("wall_seconds", "")] + [t.params.get(k, "") for k in keys])
        os.replace(os.path.join(a.out, "trials.csv.partial"), os.path.join(a.out, "trials.csv"))
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            sys.exit("rlforge tune: error: no trial completed; see the logs in " + self.trials_dir)
        best = study.best_trial
        # --set shaped the trials (a shorter budget, say); best.yaml is CONFIG with the best parameters only,
        # written out resolved (any config it extends merged in, paths absolute), so that best.yaml
        # needs no other file and trains from any folder.
        config = resolved_config(a.rlforge, a.config)
        for key, value in best.params.items():
            set_key(config, key, value)
        header = (f"# rlforge tune: the best of {len(complete)} completed trials (trial {best.number}, {a.objective} "
                  f"score {best.value:.4g}) on {a.config}\n")
        write_atomically(os.path.join(a.out, "best.yaml"), header + yaml.safe_dump(config, sort_keys=False))
        pruned = [t for t in trials if t.state == optuna.trial.TrialState.PRUNED]
        summary = {
            "config": a.config,
            "objective": a.objective,
            "trial_seeds": list(range(a.base_seed, a.base_seed + a.trial_seeds)),
            "study": os.path.abspath(a.study),
            "sampler": f"TPE, seed {a.seed}, {a.startup_trials} random startup trials",
            "pruner": a.prune if a.prune == "none" else f"median, from {a.warmup_steps} env steps on",
            "trials": {"complete": len(complete), "pruned": len(pruned),
                       "failed": sum(t.state == optuna.trial.TrialState.FAIL for t in trials)},
            "trial_wall_seconds": sum(t.user_attrs.get("wall_seconds", 0.0) for t in trials),
            "session_wall_seconds": session_seconds,
            "best": {"trial": best.number, "value": best.value, "params": best.params,
                     "run_dir": best.user_attrs.get("run_dir", "")},
        }
        write_atomically(os.path.join(a.out, "tune.yaml"), yaml.safe_dump(summary, sort_keys=False))
        self.say(f"best: trial {best.number}, {a.objective} score {best.value:.4g}, "
                 + ", ".join(f"{k}={v}" for k, v in best.params.items()))


def write_atomically(path, text):
    with open(path + ".partial", "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".partial", path)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rlforge", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--param", action="append", required=True)
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--trials", type=int, required=True)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--prune", choices=("median", "none"), default="median")
    p.add_argument("--objective", choices=("final", "curve"), default="final")
    p.add_argument("--startup-trials", type=int, default=5)
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--trial-seeds", type=int, default=1)
    p.add_argument("--base-seed", type=int, default=0)
    p.add_argument("--study", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    try:
        Tuner(args).run()
    except ValueError as error:
        sys.exit(f"rlforge tune: error: {error}")


if __name__ == "__main__":
    main()
