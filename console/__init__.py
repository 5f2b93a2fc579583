"""The staff console at ``/admin``: curate and publish the knowledge base, review what the bot could not answer."""
