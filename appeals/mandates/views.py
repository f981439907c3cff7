from flask import Blueprint

bp = Blueprint("mandates", __name__)
