"""emu: AWS Lambda and Google Cloud Functions, emulated on one machine."""

__version__ = "0.1.0"
