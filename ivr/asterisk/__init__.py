"""Getting, configuring and running a real Asterisk for a hotline stack."""
