"""A pytest plugin for the client suites run offline: before each test, the stand-in images an
earlier test removed (the suites remove busybox and alpine to test pulling them) are loaded again
from the saved archive, so one test's cleanup does not fail the next for want of a registry."""

import os
import subprocess

import pytest

ARCHIVE = os.environ["STACKCTL_SUITE_IMAGES"]
IMAGES = os.environ["STACKCTL_SUITE_IMAGE_NAMES"].split()


def _missing():
    return [
        i
        for i in IMAGES
        if subprocess.run(["docker", "image", "inspect", i], capture_output=True).returncode != 0
    ]


@pytest.fixture(autouse=True)
def stand_in_images():
    if _missing():
        subprocess.run(["docker", "load", "-q", "-i", ARCHIVE], check=True, capture_output=True)
    yield
