"""Getting codes and notices to people: the senders (SMTP, SMS/voice gateway, dev outbox) and the texts."""
