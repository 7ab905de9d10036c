"""The data generator behind `manage.py generate_data` (benchmarks and load tests): see build.py."""
