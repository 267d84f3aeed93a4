"""End-to-end jobs built from the plugin kinds (the main job of ``latticeclosure run``)."""

from .job import MainJobResult, default_output_directory, prepare_output_directory, run_main_job

__all__ = ["MainJobResult", "run_main_job", "default_output_directory", "prepare_output_directory"]
