"""Errors in the shape of the reference's ErrorBody {message, code, status, ...}."""

from __future__ import annotations

import uuid

from flask import jsonify


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, details: list | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, *, details: list | None = None):
    body = {"message": message, "code": code, "status": status,
            "contextId": str(uuid.uuid4()), "details": details or [], "errors": []}
    return jsonify(body), status


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad.request", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not.found", f"{what} not found")


def register(app) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, details=error.details)

    @app.errorhandler(404)
    def _not_found(_error):
        return error_response(404, "not.found", "The requested resource was not found")

    @app.errorhandler(405)
    def _not_allowed(_error):
        return error_response(405, "method.not.allowed", "Method not allowed")
