"""A pipeline submitted and awaited from Python: the report job, built in Python, run on the
cluster HOLLERITH_COORDINATOR and HOLLERITH_TOKEN_FILE (or HOLLERITH_TLS_*) name."""
import hollerith

job = hollerith.Job("report")
fetch = job.stack("A").card("fetch", run="seq 1 1000 > numbers.txt", outputs=["numbers.txt"])
total = fetch.card("sum", run="awk '{s+=$1} END {print s}' numbers.txt")
job.stack("B").card("double", after=[total], inputs=[fetch.output("numbers.txt")],
                    run="awk '{s+=2*$1} END {print s}' numbers.txt")
job.combine(run="echo $(cat results/A.sum.stdout) $(cat results/B.double.stdout)")
result = hollerith.Client().submit(job).wait(check=True)
print(result["combine"].stdout, end="")
