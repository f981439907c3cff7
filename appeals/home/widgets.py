"""Blocks on the start page, contributed by each domain.

A domain registers a function with @home_widget(template, order); the function receives the
current user and returns the template's context, or None when the block does not apply.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class HomeWidget:
    template: str
    order: int
    build: Callable


WIDGETS: list[HomeWidget] = []


def home_widget(template, order=50):
    def decorator(function):
        WIDGETS.append(HomeWidget(template, order, function))
        return function

    return decorator


def widgets_for(user):
    blocks = []
    for widget in sorted(WIDGETS, key=lambda w: w.order):
        context = widget.build(user)
        if context is not None:
            blocks.append((widget.template, context))
    return blocks
