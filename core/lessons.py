"""The built-in lessons: resources/lessons/index.json and the scripts beside it."""

from __future__ import annotations

import json
import os

from .boot import ROOT

LESSON_DIR = os.path.join(ROOT, "resources", "lessons")


class LessonError(Exception):
    pass


class LessonIndex:
    def __init__(self, data: dict, folder: str):
        self.folder = folder
        self.default = data["default"]
        self.chapters = data["chapters"]
        self.lessons = data["lessons"]
        self._by_name = {item["name"]: item for item in self.lessons}

    def get(self, name: str) -> dict:
        if name not in self._by_name:
            raise LessonError(f"no lesson {name!r}; `backprop-studio lessons` lists them")
        return self._by_name[name]

    def in_chapter(self, chapter_id: str) -> list[dict]:
        return [item for item in self.lessons if item["chapter"] == chapter_id]

    def path_of(self, lesson: dict) -> str:
        return os.path.join(self.folder, lesson["file"])


def load(folder: str = LESSON_DIR) -> LessonIndex:
    try:
        with open(os.path.join(folder, "index.json"), encoding="utf-8") as f:
            return LessonIndex(json.load(f), folder)
    except (OSError, ValueError, KeyError) as e:
        raise LessonError(f"lesson index unreadable: {e}") from None
