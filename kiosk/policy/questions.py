"""The 35 predefined security questions (SPEC §3): stable ids and their English source text.

The texts are gettext message ids: `kiosk/i18n` translates them at display time, so the backend and
the policy only ever deal in ids. Custom questions are not listed here; they are shown as written.
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction by pybabel without translating it now."""
    return message


PREDEFINED_QUESTIONS: dict[str, str] = {
    "city_met_spouse": N_("In what city did you meet your first spouse/partner?"),
    "city_parents_met": N_("In what city did your parents meet?"),
    "city_nearest_sibling": N_("In what city does your nearest sibling live?"),
    "city_father_born": N_("In what city was your father born?"),
    "city_first_job": N_("In what city was your first job?"),
    "city_mother_born": N_("In what city was your mother born?"),
    "city_new_year_2000": N_("What city were you in on New Year's 2000?"),
    "favorite_high_school_teacher": N_("What is the last name of your favorite teacher in high school?"),
    "college_applied_not_attended": N_("What is the name of a college you applied to but didn't attend?"),
    "first_wedding_reception": N_("What is the name of the place in which you held your first wedding reception?"),
    "father_middle_name": N_("What is your father's middle name?"),
    "favorite_food": N_("What is your favorite food?"),
    "maternal_grandmother_name": N_("What is your maternal grandmother's first and last name?"),
    "mother_middle_name": N_("What is your mother's middle name?"),
    "oldest_sibling_birthday": N_("What is your oldest sibling's birthday month and year? (e.g. November 1985)"),
    "oldest_sibling_middle_name": N_("What is your oldest sibling's middle name?"),
    "paternal_grandfather_name": N_("What is your paternal grandfather's first and last name?"),
    "youngest_sibling_middle_name": N_("What is your youngest sibling's middle name?"),
    "sixth_grade_school": N_("What school did you attend for sixth grade?"),
    "childhood_best_friend": N_("What was the first and last name of your childhood best friend?"),
    "first_significant_other": N_("What was the first and last name of your first significant other?"),
    "favorite_grade_school_teacher": N_("What was the last name of your favorite grade school teacher?"),
    "first_car": N_("What was the make and model of your first car or motorcycle?"),
    "first_school": N_("What was the name of the first school you attended?"),
    "birth_hospital": N_("What was the name of the hospital in which you were born?"),
    "first_childhood_street": N_("What was the name of the street of your first childhood home?"),
    "childhood_hero": N_("What was the name of your childhood hero?"),
    "favorite_stuffed_animal": N_("What was the name of your favorite stuffed animal?"),
    "first_pet": N_("What was the name of your first pet?"),
    "childhood_nickname": N_("What was your childhood nickname?"),
    "favorite_high_school_sport": N_("What was your favorite sport in high school?"),
    "first_job": N_("What was your first job?"),
    "childhood_phone_digits": N_("What were the last four digits of your childhood telephone number?"),
    "childhood_dream_job": N_("When you were young, what did you want to be when you grew up?"),
    "most_famous_person_met": N_("Who is the most famous person you have ever met?"),
}

PREDEFINED_QUESTION_IDS: tuple[str, ...] = tuple(PREDEFINED_QUESTIONS)
