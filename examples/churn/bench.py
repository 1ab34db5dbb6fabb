"""Ad-hoc memory benchmark of the feature pipeline (run with `python -m memory_profiler`)."""

from memory_profiler import profile

from features import build_feature_matrix


@profile
def run():
    return build_feature_matrix(n_customers=50_000)


if __name__ == "__main__":
    run()
