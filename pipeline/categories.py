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


#: Words people reach for -> the Apple category that holds them ("Top" or "Top > Sub"). Lower case.
SYNONYMS: dict[str, str] = {
    "cooking": "Arts > Food",
    "cookery": "Arts > Food",
    "food": "Arts > Food",
    "recipes": "Arts > Food",
    "baking": "Arts > Food",
    "wine": "Arts > Food",
    "literature": "Arts > Books",
    "reading": "Arts > Books",
    "fashion": "Arts > Fashion & Beauty",
    "beauty": "Arts > Fashion & Beauty",
    "art": "Arts > Visual Arts",
    "photography": "Arts > Visual Arts",
    "theatre": "Arts > Performing Arts",
    "theater": "Arts > Performing Arts",
    "dance": "Arts > Performing Arts",
    "tech": "Technology",
    "technology": "Technology",
    "software": "Technology",
    "programming": "Technology",
    "coding": "Technology",
    "computers": "Technology",
    "gadgets": "Technology",
    "podcasting": "Technology",
    "tech news": "News > Tech News",
    "comedy": "Comedy",
    "funny": "Comedy",
    "humor": "Comedy",
    "humour": "Comedy",
    "standup": "Comedy > Stand-Up",
    "stand up": "Comedy > Stand-Up",
    "money": "Business > Investing",
    "finance": "Business > Investing",
    "startups": "Business > Entrepreneurship",
    "startup": "Business > Entrepreneurship",
    "jobs": "Business > Careers",
    "health": "Health & Fitness",
    "wellness": "Health & Fitness",
    "medical": "Health & Fitness > Medicine",
    "diet": "Health & Fitness > Nutrition",
    "yoga": "Health & Fitness > Fitness",
    "exercise": "Health & Fitness > Fitness",
    "gaming": "Leisure > Video Games",
    "games": "Leisure > Games",
    "gardening": "Leisure > Home & Garden",
    "cars": "Leisure > Automotive",
    "anime": "Leisure > Animation & Manga",
    "parenting": "Kids & Family > Parenting",
    "family": "Kids & Family",
    "kids": "Kids & Family",
    "children": "Kids & Family",
    "pets": "Kids & Family > Pets & Animals",
    "politics": "News > Politics",
    "current affairs": "News > News Commentary",
    "religion": "Religion & Spirituality",
    "faith": "Religion & Spirituality",
    "meditation": "Religion & Spirituality > Spirituality",
    "space": "Science > Astronomy",
    "biology": "Science > Life Sciences",
    "maths": "Science > Mathematics",
    "math": "Science > Mathematics",
    "psychology": "Science > Social Sciences",
    "travel": "Society & Culture > Places & Travel",
    "dating": "Society & Culture > Relationships",
    "sport": "Sports",
    "running": "Sports > Running",
    "hiking": "Sports > Wilderness",
    "outdoors": "Sports > Wilderness",
    "movies": "TV & Film",
    "film": "TV & Film",
    "films": "TV & Film",
    "tv": "TV & Film",
    "television": "TV & Film",
    "crime": "True Crime",
    "learning": "Education",
    "languages": "Education > Language Learning",
    "self-help": "Education > Self-Improvement",
    "self help": "Education > Self-Improvement",
    "stories": "Fiction",
    "audio drama": "Fiction > Drama",
    "sci-fi": "Fiction > Science Fiction",
    "scifi": "Fiction > Science Fiction",
}


def _paths() -> dict[str, str]:
    """Every name a host might write, lower case -> its full path: tops, then subcategory names."""
    out = {top.lower(): top for top in APPLE_CATEGORIES}
    for top, subs in APPLE_CATEGORIES.items():
        for sub in subs:
            out.setdefault(sub.lower(), f"{top} > {sub}")
    return out


_BY_NAME = _paths()


def suggest(name: str, choices: tuple[str, ...] | list[str] | None = None) -> str | None:
    """The closest valid spelling of `name`, case-insensitively, or None.

    With `choices` (e.g. one top's subcategories) only those are candidates. Without, `name` may also be a
    subcategory's name or a common synonym, and the answer is then the full path: 'Food' -> 'Arts > Food',
    'cooking' -> 'Arts > Food', 'Tech' -> 'Technology'.
    """
    key = " ".join(name.lower().split())
    if choices is not None:
        lowered = {c.lower(): c for c in choices}
        if key in lowered:
            return lowered[key]
        match = difflib.get_close_matches(key, list(lowered), n=1, cutoff=0.5)
        return lowered[match[0]] if match else None
    if key in _BY_NAME:
        return _BY_NAME[key]
    if key in SYNONYMS:
        return SYNONYMS[key]
    if key.endswith("s") and key[:-1] in SYNONYMS:
        return SYNONYMS[key[:-1]]
    pool = {**SYNONYMS, **_BY_NAME}
    match = difflib.get_close_matches(key, list(pool), n=1, cutoff=0.6)
    return pool[match[0]] if match else None


def suggest_path(top: str, sub: str | None = None) -> str | None:
    """A valid "Top" or "Top > Sub" for what a host wrote, or None: by exact name (any case), by a
    subcategory's name, by synonym, then by spelling. 'Arts > Cooking' -> 'Arts > Food'."""
    if sub is None:
        return suggest(top)
    real_top = suggest(top, list(APPLE_CATEGORIES))
    if real_top is not None and real_top.lower() == top.lower().strip():
        inside = suggest(sub, APPLE_CATEGORIES[real_top]) if APPLE_CATEGORIES[real_top] else None
        if inside is not None and inside.lower() == " ".join(sub.lower().split()):
            return f"{real_top} > {inside}"
        elsewhere = suggest(sub)
        if elsewhere is not None and (elsewhere.startswith(real_top + " >") or inside is None):
            return elsewhere
        return f"{real_top} > {inside}" if inside else real_top
    return suggest(top) or suggest(sub)  # the top is what is wrong: mend it first


def legacy_replacement(top: str, sub: str | None = None) -> tuple[bool, str | None]:
    """(is_legacy, replacement) for a pre-2019 category path."""
    path = f"{top} > {sub}" if sub else top
    if path in LEGACY_CATEGORIES and not is_category(top, sub):
        return True, LEGACY_CATEGORIES[path]
    return False, None
