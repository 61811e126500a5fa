"""Telling people from scripts: the CAPTCHA picture and audio, and the picture check."""
