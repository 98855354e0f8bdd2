"""`manage.py generate_data --proposals N [--seed S]`: realistic synthetic data at scale.

What it makes is described in `demo/generator.py`.
"""

from django.core.management.base import BaseCommand, CommandError

from demo.generator import Generator


class Command(BaseCommand):
    help = "Add N synthetic proposals with their handling history, for performance work."

    def add_arguments(self, parser):
        parser.add_argument("--proposals", type=int, required=True, help="How many to add.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--password",
            default="",
            help="Password for the generated accounts (gen_…); none can log in without it.",
        )

    def handle(self, *args, **options):
        if options["proposals"] < 1:
            raise CommandError("--proposals must be at least 1.")
        generator = Generator(
            seed=options["seed"],
            batch_size=options["batch_size"],
            password=options["password"],
            write=self.stdout.write,
        )
        generator.run(options["proposals"])
