"""Reference lists the demo and the synthetic data share (a committee's usual values)."""

# 不予立案 reasons (DESIGN.md, stage 2), as committees code them.
REJECTION_REASONS = [
    ("secret", "涉及国家秘密"),
    ("litigation", "属于诉讼案件"),
    ("personal", "个人事务"),
    ("vague", "空泛无具体建议"),
    ("advertising", "宣传推销"),
]
