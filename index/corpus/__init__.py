"""Files in the corpus folder -> Article values: the folder, the formats, safe adding and removing."""
