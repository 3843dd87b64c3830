"""Apple Podcasts' category tree (the July 2019 list) as data, with lookup and suggestions."""

from __future__ import annotations

import difflib

#: Top-level category -> its subcategories, exactly as Apple spells them.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": (
        "Alternative Health",
        "Fitness",
        "Medicine",
        "Mental Health",
        "Nutrition",
        "Sexuality",
    ),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": (
        "Animation & Manga",
        "Automotive",
        "Aviation",
        "Crafts",
        "Games",
        "Hobbies",
        "Home & Garden",
        "Video Games",
    ),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": (
        "Business News",
        "Daily News",
        "Entertainment News",
        "News Commentary",
        "Politics",
        "Sports News",
        "Tech News",
    ),
    "Religion & Spirituality": (
        "Buddhism",
        "Christianity",
        "Hinduism",
        "Islam",
        "Judaism",
        "Religion",
        "Spirituality",
    ),
    "Science": (
        "Astronomy",
        "Chemistry",
        "Earth Sciences",
        "Life Sciences",
        "Mathematics",
        "Natural Sciences",
        "Nature",
        "Physics",
        "Social Sciences",
    ),
    "Society & Culture": (
        "Documentary",
        "Personal Journals",
        "Philosophy",
        "Places & Travel",
        "Relationships",
    ),
    "Sports": (
        "Baseball",
        "Basketball",
        "Cricket",
        "Fantasy Sports",
        "Football",
        "Golf",
        "Hockey",
        "Rugby",
        "Running",
        "Soccer",
        "Swimming",
        "Tennis",
        "Volleyball",
        "Wilderness",
        "Wrestling",
    ),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

#: Pre-2019 names Apple retired, with what replaced them (None: no direct replacement).
LEGACY_CATEGORIES: dict[str, str | None] = {
    "Games & Hobbies": "Leisure",
    "Science & Medicine": "Science",
    "Society & Culture > Personal Journals": None,
    "Technology > Software How-To": "Technology",
    "Technology > Gadgets": "Technology",
    "Technology > Tech News": "News > Tech News",
    "Technology > Podcasting": "Technology",
    "Health": "Health & Fitness",
    "Health > Fitness & Nutrition": "Health & Fitness > Fitness",
    "Health > Self-Help": "Education > Self-Improvement",
    "Health > Alternative Health": "Health & Fitness > Alternative Health",
    "Health > Sexuality": "Health & Fitness > Sexuality",
    "News & Politics": "News",
    "Education > Educational Technology": "Education",
    "Education > Higher Education": "Education > Courses",
    "Education > K-12": "Kids & Family > Education for Kids",
    "Education > Training": "Education > How To",
    "Education > Language Courses": "Education > Language Learning",
    "Business > Business News": "News > Business News",
    "Business > Shopping": "Business",
    "Arts > Literature": "Arts > Books",
    "Arts > Food": "Arts > Food",
    "Government & Organizations": "Government",
    "Religion & Spirituality > Other": "Religion & Spirituality",
    "Sports & Recreation": "Sports",
    "Sports & Recreation > Amateur": "Sports",
    "Sports & Recreation > College & High School": "Sports",
    "Sports & Recreation > Outdoor": "Sports > Wilderness",
    "Sports & Recreation > Professional": "Sports",
    "TV & Film": "TV & Film",
}


def is_category(top: str, sub: str | None = None) -> bool:
    """True when `top` (and `sub`, if given) is on Apple's current list, with exact spelling."""
    if top not in APPLE_CATEGORIES:
        return False
    return sub is None or sub in APPLE_CATEGORIES[top]


def suggest(name: str, choices: tuple[str, ...] | list[str] | None = None) -> str | None:
    """The closest valid spelling of `name`, case-insensitively, or None."""
    pool = list(choices if choices is not None else APPLE_CATEGORIES)
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def legacy_replacement(top: str, sub: str | None = None) -> tuple[bool, str | None]:
    """(is_legacy, replacement) for a pre-2019 category path."""
    path = f"{top} > {sub}" if sub else top
    if path in LEGACY_CATEGORIES and not is_category(top, sub):
        return True, LEGACY_CATEGORIES[path]
    return False, None
