from flask import Blueprint

bp = Blueprint("schedules", __name__)
