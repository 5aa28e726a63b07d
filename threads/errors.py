"""Error codes of the threads app."""

from athena_site.api.errors import ApplicationError


class ThreadBusy(ApplicationError):
    status_code = 409
    code = "thread_busy"
    message = "The thread is already running. Wait for the current run to finish."


class UnsupportedFileType(ApplicationError):
    status_code = 422
    code = "unsupported_file_type"
    message = "This type of file is not accepted."


class AttachmentTooLarge(ApplicationError):
    status_code = 413
    code = "payload_too_large"
    message = "The file is larger than allowed."


class VisionUnsupported(ApplicationError):
    status_code = 422
    code = "vision_unsupported"
    message = "The agent's model cannot read images. Choose a model with the vision capability."
